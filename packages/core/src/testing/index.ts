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
  type FakeUpstream,
  type FakeUpstreamHandler,
  type FakeUpstreamOptions,
  type RecordedRequest,
  startFakeUpstream,
} from './fake-upstream.js'
export { freePort } from './free-port.js'
export {
  createTestPipeline,
  type PipelineResult,
  runPipeline,
  type TestPipeline,
  type TestPipelineOptions,
  type TestUpstream,
} from './pipeline.js'
export { type RequireRedisOptions, requireRedis } from './redis.js'
export { defineStoreContract, type StoreContractCase, type StoreImplementation } from './store-contract.js'
export {
  createRecordingTelemetry,
  type RecordedDecision,
  type RecordingTelemetry,
} from './telemetry.js'
