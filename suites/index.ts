/**
 * `refresh-conformance`: the runner API. Load a target, run the checks, write the reports;
 * the check catalogue and the report formats. The mock IdP is `refresh-conformance/mock-idp`.
 */
export { runConformance, writeRunReports, type ConformanceRun, type ConformanceRunOptions } from './runner/conformance-run.ts';
export type { InstanceResult, WaitProgress } from './runner/run.ts';
export { describeChecks, type CheckListing } from './runner/plan.ts';
export { CHECKS, GROUPS, type Check, type Group } from './checks/index.ts';
export { loadTarget, parseTarget, type Target, type RemoteTarget, type EmbeddedTarget, type ExpectedFailure, type TargetClient } from './harness/target.ts';
export { HarnessError, SetupError } from './harness/errors.ts';
export { buildReport, reportToJson, reportToJUnit, summaryLine, writeReports, type Report, type CheckResult, type CheckStatus, type ReportSummary } from './harness/report/index.ts';
export { reportToHtml, writeHtmlReport, type HtmlOptions, type HtmlReport } from './harness/report/html.ts';
export { loadProfile, ProfileError, type Profile } from '../mock-idp/profile/index.ts';
export { DEFECTS, type Defect } from '../mock-idp/defects.ts';
