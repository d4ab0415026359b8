/**
 * The mock's documented bounds on what a caller can make it hold or do (README "Security").
 * Every input that grows state or moves time has a limit here, so no request can exhaust the process.
 */

/** Pending logins (login pages shown, not yet submitted) kept at once; the oldest is dropped first. */
export const MAX_PENDING_LOGINS = 1000;
/** Longest value of one authorization request parameter (state, nonce, login_hint, ...), in characters. */
export const MAX_AUTHORIZE_PARAM_CHARS = 4096;
/** All names and values of one authorization request together, in characters. */
export const MAX_AUTHORIZE_REQUEST_CHARS = 16_384;

/** Largest single clock advance through the control API: 100 years. */
export const MAX_ADVANCE_SECONDS = 100 * 366 * 86_400;
/** Largest total offset of the clock from its start: 1000 years (dates stay valid, JWT times stay integers). */
export const MAX_CLOCK_OFFSET_SECONDS = 1000 * 366 * 86_400;
/** Longest string the control API accepts (usernames, subs, client ids). */
export const MAX_CONTROL_STRING_CHARS = 256;

/** How often the HTTP server looks for requests over their time limits (Node's default is 30 s). */
export const CONNECTION_CHECK_INTERVAL_MS = 1000;
