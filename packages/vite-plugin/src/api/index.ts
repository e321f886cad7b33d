export type {
  CallOptions,
  MaxApiClient,
  MaxApiClientOptions,
  PollSchedule,
  RetryInfo,
  TaskInfo,
} from "./maxapi-client.js";
export { createMaxApiClient } from "./maxapi-client.js";
