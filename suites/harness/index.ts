/** The harness client library. Only re-exports: one job per module. */
export * from './errors.ts';
export * from './target.ts';
export * from './http.ts';
export * from './record.ts';
export * from './redact.ts';
export * from './discovery.ts';
export * from './oauth.ts';
export * from './html.ts';
export * from './drivers/index.ts';
export * from './report/index.ts';
