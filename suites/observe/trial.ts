/**
 * A trial: one small experiment against the target with a fresh check context (its own recorder,
 * login flow and clock view; on the embedded mock its own IdP instance), run through the run
 * pipeline like a check, so timeouts, the deadline, redaction and the limiter all apply.
 */
import type { Check, CheckContext } from '../checks/types.ts';
import type { TargetClient } from '../harness/target.ts';
import type { PreparedRun } from '../runner/pipeline.ts';
import type { CheckInstance } from '../runner/plan.ts';

export type TrialResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export type Trial = <T>(name: string, fn: (t: CheckContext) => Promise<T>) => Promise<TrialResult<T>>;

export interface TrialCounter {
  trials: number;
}

export function trialsFor(run: PreparedRun, client: TargetClient, others: TargetClient[], counter: TrialCounter = { trials: 0 }): Trial {
  return async <T>(name: string, fn: (t: CheckContext) => Promise<T>): Promise<TrialResult<T>> => {
    let outcome: { value: T } | undefined;
    const check: Check = {
      id: `observe.${name}`,
      group: 'token-endpoint',
      title: `observe: ${name}`,
      level: 'MAY',
      clause: [],
      applies: () => true,
      observes: true,
      async run(t) {
        outcome = { value: await fn(t) };
      },
    };
    const instance: CheckInstance = { check, client, otherClients: others, citations: [], clause: '', level: 'MAY', name: `observe ${name} [${client.id}]` };
    counter.trials++;
    const result = await run.runOne(instance);
    if (outcome) return { ok: true, value: outcome.value };
    // The first line says why; the exchanges are the evidence of the check's record, not of a reason.
    return { ok: false, reason: `${result.status}: ${(result.message ?? 'no result').split('\n')[0]}` };
  };
}
