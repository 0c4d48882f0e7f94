/**
 * Block planning: coalesces the points of one poll into as few read requests as possible, per
 * unit and table, within the per-request limits (125 registers / 2000 bits, or less) and reading
 * through unused gaps of at most a configured size.
 *
 * Why greedy is optimal for points that do not partially overlap (the normal case; bits of one
 * register are exact duplicates): such points merge into disjoint spans sorted by start. (Points
 * that partially overlap are merged greedily, which can cost a request over the optimum.) A run of consecutive spans
 * fits one request iff its extent fits and no hole between neighbours exceeds the gap; both tests
 * only get easier for a shorter run, so taking each request as far as it goes never costs a request
 * (the usual exchange argument). `plan.test.ts` checks this against an exhaustive search.
 */
import { isBitTable, MAX_READ_BITS, MAX_READ_REGISTERS, TABLES, type Table } from "./types.js";

/** One thing to read: a point's unit, table, first address and size in registers or bits. */
export interface PlanItem {
  unitId: number;
  table: Table;
  address: number;
  size: number;
}

/** Limits of a plan. */
export interface PlanLimits {
  /** Most registers per FC3/FC4 request, 1..125. */
  maxRegisters: number;
  /** Most bits per FC1/FC2 request, 1..2000. */
  maxBits: number;
  /** Longest run of unused registers read through to join two blocks. */
  maxGapRegisters: number;
  /** Longest run of unused bits read through to join two blocks. */
  maxGapBits: number;
}

/** Defaults: the protocol's maxima, and gaps of 16 registers / 64 bits. */
export const DEFAULT_LIMITS: PlanLimits = {
  maxRegisters: MAX_READ_REGISTERS,
  maxBits: MAX_READ_BITS,
  maxGapRegisters: 16,
  maxGapBits: 64,
};

/** One read request of a plan. */
export interface PlannedRequest {
  unitId: number;
  table: Table;
  address: number;
  /** Registers or bits read. */
  count: number;
  /** Indices, into the planned items, of the items this request serves. */
  items: number[];
}

interface Span {
  start: number;
  end: number;
  items: number[];
}

/** Plans the requests that read `items`; the result is ordered by unit, table and address. */
export function planRequests(
  items: readonly PlanItem[],
  limits: PlanLimits = DEFAULT_LIMITS,
): PlannedRequest[] {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const key = `${item.unitId}:${item.table}`;
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  const out: PlannedRequest[] = [];
  for (const indices of groups.values()) {
    const first = items[indices[0]!]!;
    const bits = isBitTable(first.table);
    const max = bits ? limits.maxBits : limits.maxRegisters;
    const gap = bits ? limits.maxGapBits : limits.maxGapRegisters;
    for (const block of coalesce(spans(items, indices, max), max, gap)) {
      out.push({
        unitId: first.unitId,
        table: first.table,
        address: block.start,
        count: block.end - block.start,
        items: block.items,
      });
    }
  }
  const tableOrder = (t: Table) => TABLES.indexOf(t);
  return out.sort(
    (a, b) => a.unitId - b.unitId || tableOrder(a.table) - tableOrder(b.table) || a.address - b.address,
  );
}

/** Sorted, merged spans of overlapping items; a merge that would exceed `max` starts a new span. */
function spans(items: readonly PlanItem[], indices: number[], max: number): Span[] {
  const sorted = [...indices].sort(
    (a, b) => items[a]!.address - items[b]!.address || items[b]!.size - items[a]!.size,
  );
  const out: Span[] = [];
  let cur: Span | undefined;
  for (const i of sorted) {
    const { address, size } = items[i]!;
    const end = address + size;
    if (cur && address < cur.end && Math.max(cur.end, end) - cur.start <= max) {
      cur.end = Math.max(cur.end, end);
      cur.items.push(i);
    } else {
      cur = { start: address, end, items: [i] };
      out.push(cur);
    }
  }
  return out;
}

/** Greedy left-to-right grouping of spans into requests of at most `max`, joining over holes up to `gap`. */
function coalesce(list: Span[], max: number, gap: number): Span[] {
  const out: Span[] = [];
  let cur: Span | undefined;
  for (const s of list) {
    if (cur && s.start - cur.end <= gap && Math.max(cur.end, s.end) - cur.start <= max) {
      cur.end = Math.max(cur.end, s.end);
      cur.items.push(...s.items);
    } else {
      cur = { start: s.start, end: s.end, items: [...s.items] };
      out.push(cur);
    }
  }
  return out;
}
