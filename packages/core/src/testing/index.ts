export {
  createTestCertificates,
  type IssueOptions,
  type TestCertificate,
  type TestCertificateAuthority,
  type TestCertificatesOptions,
} from './certificates.js'
export { createManualClock, type ManualClock } from './clock.js'
export { createTestExchange, type TestExchangeOptions, type TestRequest } from './exchange.js'
export {
  answerPath,
  type FakeUpstream,
  type FakeUpstreamHandler,
  type FakeUpstreamOptions,
  type RecordedRequest,
  startFakeUpstream,
} from './fake-upstream.js'
export { freePort } from './free-port.js'
export {
  createRecordingLogger,
  eventually,
  jsonLines,
  LogCapture,
  type RecordedLogEntry,
  type RecordingLogger,
} from './logs.js'
export {
  createTestPipeline,
  type PipelineResult,
  runPipeline,
  type TestPipeline,
  type TestPipelineOptions,
  type TestUpstream,
} from './pipeline.js'
export { waitForOutput } from './process.js'
export { expectOptionsTables } from './readme.js'
export { type RequireRedisOptions, requireRedis } from './redis.js'
export { defineStoreContract, type StoreContractCase, type StoreImplementation } from './store-contract.js'
export {
  createRecordingTelemetry,
  type RecordedDecision,
  type RecordingTelemetry,
} from './telemetry.js'
