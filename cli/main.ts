import { Command, CommanderError } from 'commander';
import { VERSION } from '../core/version.js';
import { apiCommand } from './commands/api.js';
import { jobCommand } from './commands/job.js';
import { operatorCommand } from './commands/operator.js';
import { robotCommand } from './commands/robot.js';
import { runCommand } from './commands/run.js';
import { submitCommand } from './commands/submit.js';
import { validateCommand } from './commands/validate.js';
import { UsageError } from './io.js';

const program = new Command('rpa').version(VERSION).description('Kubernetes-native RPA: workflows, robots and jobs').exitOverride();
validateCommand(program);
runCommand(program);
robotCommand(program);
submitCommand(program);
jobCommand(program);
operatorCommand(program);
apiCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof UsageError) {
    process.stderr.write(`rpa: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`rpa: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
