/** oidc-provider 9 ships no type declarations; the benchmark uses a few of its APIs, untyped. */
declare module 'oidc-provider';
