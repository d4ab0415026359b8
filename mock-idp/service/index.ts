/** The mock as a service: configuration of clients and users, and a generated certificate for HTTPS. */
export * from './config.ts';
export * from './tls.ts';
export * from './bind.ts';
export * from './store-option.ts';
