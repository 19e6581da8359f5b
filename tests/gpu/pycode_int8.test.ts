// pycode-20M greedy, int8 engine: see pycode_greedy.ts.
import { pycodeGreedySuite } from './pycode_greedy';

pycodeGreedySuite('int8');
