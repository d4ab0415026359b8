/** Drivers chosen from the target's configuration. Only re-exports and the three factories live here. */
import type { Endpoints } from '../discovery.ts';
import { requireEndpoint } from '../discovery.ts';
import { LogoutError } from '../errors.ts';
import type { ClockConfig, LoginConfig, LogoutConfig } from '../target.ts';
import { createMockClock } from './clock/mock.ts';
import { createRealClock, type RealClockOptions } from './clock/real.ts';
import type { Clock } from './clock/types.ts';
import type { ClockControl, SsoControl } from './control.ts';
import { createBrowserLogin } from './login/browser.ts';
import { createFormLogin } from './login/form.ts';
import { createManualLogin, type ManualLoginOptions } from './login/manual.ts';
import { createMockLogin } from './login/mock.ts';
import type { LoginDriver } from './login/types.ts';
import { createEndSessionLogout } from './logout/end-session.ts';
import { createMockLogout } from './logout/mock.ts';
import type { LogoutDriver } from './logout/types.ts';

export * from './browse.ts';
export * from './control.ts';
export * from './login/types.ts';
export * from './login/mock.ts';
export * from './login/form.ts';
export * from './login/browser.ts';
export * from './login/manual.ts';
export * from './logout/types.ts';
export * from './logout/mock.ts';
export * from './logout/end-session.ts';
export * from './clock/types.ts';
export * from './clock/mock.ts';
export * from './clock/real.ts';

/**
 * `defaultUsername`: the user for a mock login without `username` (the mock's first user);
 * `terminal`: the manual driver's streams (default: the process's terminal).
 */
export function createLoginDriver(config: LoginConfig, context: { defaultUsername?: string; terminal?: ManualLoginOptions; issuer?: string } = {}): LoginDriver {
  switch (config.driver) {
    case 'mock': {
      const username = config.username ?? context.defaultUsername;
      if (!username) throw new TypeError('login.driver "mock": no username in the target and no default user from the mock');
      return createMockLogin({ username });
    }
    case 'form':
      return createFormLogin({
        username: config.username,
        password: config.password,
        ...(config.allowedOrigins && { allowedOrigins: config.allowedOrigins }),
        ...(context.issuer !== undefined && { issuer: context.issuer }),
      });
    case 'browser':
      return createBrowserLogin({
        steps: config.steps,
        headless: config.headless,
        timeoutMs: config.timeoutMs,
        launchTimeoutMs: config.launchTimeoutMs,
        ...(config.executablePath !== undefined && { executablePath: config.executablePath }),
        ...(config.allowedOrigins && { allowedOrigins: config.allowedOrigins }),
        ...(context.issuer !== undefined && { issuer: context.issuer }),
      });
    case 'manual':
      return createManualLogin(context.terminal);
  }
}

export function createLogoutDriver(
  config: LogoutConfig,
  context: { endpoints: Partial<Endpoints>; control?: SsoControl; issuer?: string; adminToken?: string },
): LogoutDriver {
  switch (config.driver) {
    case 'mock': {
      if (context.control) return createMockLogout({ control: context.control });
      if (context.issuer && context.adminToken) return createMockLogout({ issuer: context.issuer, adminToken: context.adminToken });
      throw new TypeError('logout.driver "mock": needs the embedded control or issuer + control.adminToken');
    }
    case 'end-session':
      // Looked up when a check logs out, not here: an IdP without end_session_endpoint fails only the
      // checks that log out (and the plan skips those, see runner/plan.ts).
      return {
        kind: 'end-session',
        logout: async (http, input) =>
          createEndSessionLogout({
            endSessionEndpoint: requireEndpoint(context.endpoints, 'endSession'),
            ...(context.endpoints.authorization !== undefined && { authorizationEndpoint: context.endpoints.authorization }),
            ...(config.postLogoutRedirectUri !== undefined && { postLogoutRedirectUri: config.postLogoutRedirectUri }),
          }).logout(http, input),
      };
    case 'none':
      return {
        kind: 'none',
        logout: async () => {
          throw new LogoutError('LOGOUT_UNAVAILABLE', 'the target declares no logout (logout.driver "none"); a check that logs out must declare needs: ["logout"]');
        },
      };
  }
}

/** For the mock clock, `control` is the embedded mock's or `createControlClient(...)` on the check's http. */
export function createClock(
  config: ClockConfig,
  context: { control?: ClockControl } & Omit<RealClockOptions, 'maxWaitSeconds'> = {},
): Clock {
  switch (config.driver) {
    case 'mock':
      if (!context.control) throw new TypeError('clock.driver "mock": needs a control (embedded or createControlClient)');
      return createMockClock(context.control);
    case 'real': {
      const { control: _control, ...real } = context;
      return createRealClock({ ...real, maxWaitSeconds: config.maxWaitSeconds });
    }
  }
}
