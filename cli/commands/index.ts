/** Every `sluice` sub-command; `cli/main.ts` dispatches on this list. Add new commands here. */
import type { Command } from '../command.ts';
import { runCommand } from './run.ts';
import { statusCommand } from './status.ts';
import { dagCommand } from './dag.ts';
import { taskCommand } from './task.ts';
import { applyCommand } from './apply.ts';
import { planCommand } from './plan.ts';
import { auditCommand } from './audit.ts';
import { tokenizerCommand } from './tokenizer.ts';
import { contaminationCommand } from './contamination.ts';
import { cancelCommand } from './cancel.ts';
import { datasetsCommand } from './datasets.ts';
import { reportCommand } from './report.ts';
import { statsCommand } from './stats.ts';

export const commands: Command[] = [runCommand, statusCommand, dagCommand, taskCommand, applyCommand, planCommand, auditCommand, tokenizerCommand, contaminationCommand, cancelCommand, datasetsCommand, reportCommand, statsCommand];
