export { PRICE_PER_IMAGE_USD } from "./counters.js";
export { loadFaults } from "./load-faults.js";
export { MODERATION_CATEGORIES } from "./moderation.js";
export type {
  S3Counters,
  S3Credentials,
  S3DelayFault,
  S3DropFault,
  S3Emulator,
  S3EmulatorOptions,
  S3ErrorFault,
  S3Fault,
  S3FaultRule,
  S3Operation,
  S3StoredObject,
} from "./s3/s3-types.js";
export {
  S3_EMULATOR_ACCESS_KEY_ID,
  S3_EMULATOR_SECRET_ACCESS_KEY,
  startS3Emulator,
} from "./s3/start-s3-emulator.js";
export { startEmulator } from "./start-emulator.js";
export type {
  AcceptThenDropFault,
  CorruptFault,
  Counters,
  DelayFault,
  DropFault,
  Emulator,
  EmulatorOptions,
  ExpiredFault,
  FailureReason,
  Fault,
  FaultPhase,
  FaultRule,
  GrokModel,
  HttpFault,
  LatencyFault,
  ModerationCategory,
  ModerationFault,
  OutcomeFault,
  OversizedFault,
  TaskData,
  TaskStatus,
  TruncatedFault,
} from "./types.js";
