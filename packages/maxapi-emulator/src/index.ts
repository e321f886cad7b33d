export { PRICE_PER_IMAGE_USD } from "./counters.js";
export { loadFaults } from "./load-faults.js";
export { MODERATION_CATEGORIES } from "./moderation.js";
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
