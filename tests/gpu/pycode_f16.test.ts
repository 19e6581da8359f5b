// pycode-20M greedy, f16 engine: see pycode_greedy.ts.
import { pycodeGreedySuite } from './pycode_greedy';

pycodeGreedySuite('f16');
