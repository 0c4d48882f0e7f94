/** Waiting for a condition with a deadline: how tests against real peers wait, never for a fixed time. */

type Check<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

/**
 * Polls `check` every `everyMs` until it returns a truthy value, which it resolves with; throws
 * `timed out after <ms> ms waiting for <what>` (with `detail()` when given) past the deadline.
 */
export async function until<T>(
  what: string,
  check: Check<T>,
  ms = 5_000,
  detail?: () => unknown,
  everyMs = 20,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) {
      const seen = detail ? `: ${JSON.stringify(await detail())}` : "";
      throw new Error(`timed out after ${ms} ms waiting for ${what}${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
