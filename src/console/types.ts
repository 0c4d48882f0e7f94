/** Shapes of the API responses the console reads (see the OpenAPI document at /docs). */

export type Quality = "good" | "uncertain" | "bad";

export interface Reading {
  gateway: string;
  device: string;
  point: string;
  value: unknown;
  type: string;
  quality: Quality;
  status?: string;
  ts: string;
  receivedAt: string;
  unit?: string;
  protocol: string;
  address?: string;
  seq: number;
}

export interface DeviceInfo {
  id: string;
  type: string;
  description?: string;
  enabled: boolean;
  state: "connecting" | "connected" | "degraded" | "disconnected" | "faulted" | "stopped";
  stateReason?: string;
  stateSince: string;
  pointCount: number;
  counters: Record<string, number | null>;
}

export interface PointInfo {
  id: string;
  type: string;
  description?: string;
  unit?: string;
  access?: "read" | "readwrite";
  min?: number;
  max?: number;
  address?: string;
  latest?: Reading;
}

export interface BrowseNode {
  id: string;
  name: string;
  kind: string;
  type?: string;
  access?: "read" | "readwrite";
  hasChildren: boolean;
}

export interface WriteResult {
  device: string;
  point: string;
  value: unknown;
  status?: string;
  at: string;
}

export interface HistorySample {
  ts: string;
  value: unknown;
  quality: Quality;
}

export interface HistoryBucket {
  ts: string;
  min: number;
  max: number;
  avg: number;
  count: number;
}

export interface HistoryResponse {
  truncated: boolean;
  bucketMs?: number;
  samples?: HistorySample[];
  buckets?: HistoryBucket[];
}
