import type { Command } from 'commander';
import { readWorkflowFile } from '../io.js';

export function validateCommand(program: Command): void {
  program
    .command('validate')
    .description('check a workflow file; exit 1 listing every problem')
    .argument('<file>', 'Workflow manifest, YAML or JSON')
    .action(async (file: string) => {
      const wf = await readWorkflowFile(file);
      process.stdout.write(`${file}: workflow "${wf.metadata.name}" is valid (${wf.spec.nodes.length} nodes)\n`);
    });
}
