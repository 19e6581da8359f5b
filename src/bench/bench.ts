// Benchmark CLI on real WebGPU (Node + Dawn): `npm run -s bench -- ...` (see USAGE in args.ts).
// The readable table and progress go to stderr; the JSON report to the --json file, or to stdout
// with `--json -` (then stdout carries nothing else).
import { writeFile } from 'node:fs/promises';
import { parseArgs, USAGE, UsageError } from './args';
import { runBench } from './model_bench';
import { runKernelLab } from './kernel_lab';
import { renderModelReport } from './report';
import { renderKernelReport } from './kernel_report';
import { runVerify } from './verify';
import { runSuiteCli } from './suite_cli';
import { renderSuiteReport } from './suite_report';
import { runEvalCli, renderEvalReport } from './eval_cli';
import { runBatchBench, renderBatchReport } from './batch_bench';

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.mode === 'help') {
    process.stderr.write(USAGE + '\n');
    return;
  }
  const log = (line: string) => process.stderr.write(line + '\n');
  let json: string;
  if (args.mode === 'model') {
    const report = await runBench({ ...args.options, log });
    process.stderr.write('\n' + renderModelReport(report));
    json = JSON.stringify(report, null, 2);
  } else if (args.mode === 'verify') {
    const report = await runVerify({ ...args.options, log });
    process.stderr.write(`\n${report.adapter.name}: ${report.pass ? 'every check passed' : 'SOME CHECKS FAILED'}\n`);
    json = JSON.stringify(report, null, 2);
    process.exitCode = report.pass ? 0 : 1;
  } else if (args.mode === 'eval') {
    const report = await runEvalCli({ ...args.options, log });
    process.stderr.write('\n' + renderEvalReport(report));
    json = JSON.stringify(report, null, 2);
  } else if (args.mode === 'batch') {
    const report = await runBatchBench({ ...args.options, log });
    process.stderr.write('\n' + renderBatchReport(report));
    json = JSON.stringify(report, null, 2);
  } else if (args.mode === 'suite') {
    const report = await runSuiteCli({ ...args.options, log });
    process.stderr.write('\n' + renderSuiteReport(report));
    json = JSON.stringify(report, null, 2);
  } else {
    const report = await runKernelLab({ ...args.options, log });
    process.stderr.write('\n' + renderKernelReport(report));
    json = JSON.stringify(report, null, 2);
  }
  if (args.json === '-') process.stdout.write(json + '\n');
  else if (args.json) {
    await writeFile(args.json, json + '\n');
    process.stderr.write(`wrote ${args.json}\n`);
  }
}

try {
  await main(process.argv.slice(2));
  process.exit(process.exitCode ?? 0);
} catch (e) {
  const err = e as Error;
  process.stderr.write(`${err.name}: ${err.message}\n${err instanceof UsageError ? USAGE + '\n' : ''}`);
  if (!(err instanceof UsageError) && err.stack) process.stderr.write(err.stack.split('\n').slice(1, 6).join('\n') + '\n');
  process.exit(err instanceof UsageError ? 2 : 1);
}
