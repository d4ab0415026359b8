export * from './schema.ts';
export * from './load.ts';
export * from './migrate.ts';
export * from './list.ts';
