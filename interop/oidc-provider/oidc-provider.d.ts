/**
 * oidc-provider 9 ships no type declarations (and @types/oidc-provider is not a dependency): the module
 * is untyped here, as in scripts/bench/oidc-provider.d.ts; launch.ts types the few parts it uses.
 */
declare module 'oidc-provider';
