import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { InputError, parseVarArgs, resolveInputs } from '../../core/inputs.js';
import { BrowserPool } from '../../robot/browser-pool.js';
import { runWorkflow } from '../../robot/engine/runner.js';
import type { LogEntry } from '../../robot/engine/types.js';
import { collect, ms, nodeTable, printJson, printVariables, readWorkflowFile, UsageError } from '../io.js';

interface RunFlags {
  var?: string[];
  json?: boolean;
  timeout?: string;
}

export function runCommand(program: Command): void {
  program
    .command('run')
    .description('run a workflow in this process, without Redis')
    .argument('<file>', 'Workflow manifest, YAML or JSON')
    .option('--var <name=value>', 'input variable (repeatable; JSON values are parsed)', collect)
    .option('--timeout <seconds>', 'stop the run after this long')
    .option('--json', 'print one JSON object')
    .action(async (file: string, flags: RunFlags) => {
      const wf = await readWorkflowFile(file);
      let variables: Record<string, unknown>;
      try {
        variables = resolveInputs(wf.spec.inputs, parseVarArgs(flags.var ?? []));
      } catch (err) {
        if (err instanceof InputError) throw new UsageError(err.message);
        throw err;
      }
      const logs: LogEntry[] = [];
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      const timer = flags.timeout ? setTimeout(() => controller.abort(), Number(flags.timeout) * 1000) : undefined;
      const browsers = new BrowserPool();
      const t0 = performance.now();
      const outcome = await runWorkflow(wf.spec, {
        jobId: `local-${randomUUID()}`,
        variables,
        signal: controller.signal,
        services: browsers,
        hooks: {
          log: (e) => {
            logs.push(e);
            if (!flags.json) process.stderr.write(`${e.level.toUpperCase().padEnd(5)} ${e.nodeId ?? '-'}: ${e.message}\n`);
          },
        },
      }).finally(async () => {
        clearTimeout(timer);
        process.off('SIGINT', onSignal);
        await browsers.close();
      });
      const durationMs = performance.now() - t0;
      const { checkpoint: _cp, ...rest } = outcome;
      if (flags.json) {
        printJson({ workflow: wf.metadata.name, ...rest, durationMs, logs });
      } else {
        process.stdout.write(`workflow ${wf.metadata.name}: ${outcome.status} in ${ms(durationMs)}\n`);
        if (outcome.error) process.stdout.write(`error: ${outcome.error.message}\n`);
        process.stdout.write('\nnodes:\n');
        process.stdout.write(`${nodeTable(outcome.nodes)}\n`);
        printVariables(outcome.variables);
      }
      process.exitCode = outcome.status === 'succeeded' ? 0 : 1;
    });
}
