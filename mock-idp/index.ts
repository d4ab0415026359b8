export { createMockIdp, type MockIdp, type MockIdpOptions } from './idp.ts';
export { createClock, type Clock } from './clock.ts';
export { fixtureClients, fixtureUsers, clientIdFor, type MockClient, type MockUser } from './fixtures.ts';
export type { MockIdpControl, FamilyView, UserSelector } from './control.ts';
export type { Behaviour } from './behaviour.ts';
export * from './profile/index.ts';
export { DEFECTS, isDefect, withDefects, type Defect } from './defects.ts';
export { Store, StoreUnavailableError, type MockStore, type Awaitable, type SeenRefreshToken, type RefreshTokenChange } from './store.ts';
export type { IdpRequest, PlainResponse, RequestHeaders } from './http.ts';
