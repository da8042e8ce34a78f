/**
 * verinfer/queue — proof jobs past one machine: inference nodes submit to a BullMQ queue on Redis
 * (`createProofQueue`), prover processes take them (`startProver`, `verinfer prover`) and fetch model packages
 * by CID from a `Storage` (put there with `putModelPackage`, fetched with `getModelPackage`, from verinfer/package).
 *
 * @packageDocumentation
 */
export { type CheckRedisParams, checkRedis, type RedisHealth, type RedisWarning } from "./check-redis.js";
export {
  createProofQueue,
  type ProofHandle,
  type ProofQueue,
  type ProofQueueOptions,
  type ProofQueueStats,
  type ProofQueueWarning,
  type RecoveryReport,
  type SubmitProofParams,
} from "./create-proof-queue.js";
export { type JobRecord, JobRecordSchema, QUEUE_RECORD_FORMAT } from "./job-record.js";
export type { LatencySummary } from "./latency-window.js";
export {
  DEFAULT_QUEUE_NAME,
  type ProofResult,
  ProofResultSchema,
  proofJobId,
  QUEUE_JOB_FORMAT,
  QUEUE_RESULT_FORMAT,
  type QueueJob,
  QueueJobSchema,
  type QueueResult,
  QueueResultSchema,
} from "./queue-job.js";
export { type RedisConnection, redisOptionsFromUrl } from "./redis-connection.js";
export { REDIS_RETRY_AFTER_S } from "./redis-deadline.js";
export { type Prover, type ProverEvent, type StartProverOptions, startProver } from "./start-prover.js";
