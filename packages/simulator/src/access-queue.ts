import type { PlannedAccess } from './reference-data.js';

interface Entry {
  access: PlannedAccess;
  seq: number;
}

/** A binary min-heap of planned accesses by time; equal times leave in insertion order. */
export interface AccessQueue {
  readonly size: number;
  push(access: PlannedAccess): void;
  peek(): PlannedAccess | undefined;
  pop(): PlannedAccess | undefined;
}

/** Creates an empty queue. */
export function createAccessQueue(): AccessQueue {
  const heap: Entry[] = [];
  let seq = 0;
  const less = (a: Entry, b: Entry): boolean =>
    a.access.at < b.access.at || (a.access.at === b.access.at && a.seq < b.seq);
  const swap = (i: number, j: number): void => {
    const t = heap[i] as Entry;
    heap[i] = heap[j] as Entry;
    heap[j] = t;
  };
  return {
    get size() {
      return heap.length;
    },
    push(access) {
      heap.push({ access, seq: seq++ });
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!less(heap[i] as Entry, heap[parent] as Entry)) break;
        swap(i, parent);
        i = parent;
      }
    },
    peek: () => heap[0]?.access,
    pop() {
      const top = heap[0];
      const last = heap.pop();
      if (top === undefined || last === undefined) return undefined;
      if (heap.length > 0) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && less(heap[l] as Entry, heap[m] as Entry)) m = l;
          if (r < heap.length && less(heap[r] as Entry, heap[m] as Entry)) m = r;
          if (m === i) break;
          swap(i, m);
          i = m;
        }
      }
      return top.access;
    },
  };
}
