// pycode-20M greedy, f32 engine: see pycode_greedy.ts.
import { pycodeGreedySuite } from './pycode_greedy';

pycodeGreedySuite('f32');
