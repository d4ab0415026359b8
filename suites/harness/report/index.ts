export * from './types.ts';
export * from './json.ts';
export * from './junit.ts';
export * from './write.ts';
