/**
 * Steps of a check that are no HTTP exchange, recorded in its recorder so its evidence shows them. The
 * embedded mock's in-process control: each call (a clock advance, the end of an SSO
 * session) goes into the check's recorder as the control API request it stands for, marked
 * `via: 'in-process'`. A running mock's control goes over HTTP and is recorded as any exchange; this
 * makes the embedded mock's evidence show the same steps (a logout before a refused refresh, the time
 * that passed), so a failure can be retraced against either.
 */
import type { ClockControl, SsoControl } from '../harness/drivers/control.ts';
import type { Exchange, Recorder } from '../harness/record.ts';

/** A wait on the real clock, recorded as a step (`WAIT`, the seconds and why) when it ends, or fails. */
export async function recordedWait(recorder: Recorder, issuer: string, seconds: number, why: string, wait: () => Promise<void>): Promise<void> {
  const startedAt = new Date();
  const t0 = performance.now();
  const step = (more: Partial<Exchange>): void => {
    recorder.record({
      method: 'WAIT',
      url: issuer,
      requestHeaders: [],
      requestBody: JSON.stringify({ seconds, why }),
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(performance.now() - t0),
      via: 'real-clock',
      ...more,
    });
  };
  try {
    await wait();
    step({});
  } catch (e) {
    step({ error: { code: 'WAIT_ABORTED', message: e instanceof Error ? e.message : String(e) } });
    throw e;
  }
}

export function recordedControl(control: ClockControl & SsoControl, recorder: Recorder, issuer: string): ClockControl & SsoControl {
  const base = `${issuer.replace(/\/$/, '')}/__control`;
  const call = async <T>(path: string, body: unknown, fn: () => T | Promise<T>, answer: string): Promise<T> => {
    const startedAt = new Date();
    const t0 = performance.now();
    const step = (more: Partial<Exchange>): void => {
      recorder.record({
        method: 'POST',
        url: `${base}${path}`,
        requestHeaders: [['content-type', 'application/json']],
        requestBody: JSON.stringify(body),
        startedAt: startedAt.toISOString(),
        durationMs: Math.round(performance.now() - t0),
        via: 'in-process',
        ...more,
      });
    };
    try {
      const result = await fn();
      // The control API's answer for the same call: `{"now":…}`, `{"ended":…}`.
      step(result === undefined ? {} : { responseBody: JSON.stringify(typeof result === 'object' ? result : { [answer]: result }) });
      return result;
    } catch (e) {
      step({ error: { code: 'CONTROL_FAILED', message: e instanceof Error ? e.message : String(e) } });
      throw e;
    }
  };
  return {
    advance: (seconds) => call('/clock/advance', { seconds }, () => control.advance(seconds), 'now'),
    endSsoSession: (input) => call('/sso/end', { username: input.username }, () => control.endSsoSession(input), 'ended'),
  };
}
