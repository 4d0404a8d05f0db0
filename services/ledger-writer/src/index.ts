export { createLedgerWriter, DEFAULT_DEDUPE_WINDOW, LedgerWriter, type LedgerWriterOptions } from './ledger-writer.js';
export { parseLedgerWriterConfig, type LedgerWriterConfig } from './config.js';
export { main } from './main.js';
export { WriterError, isWriterError, WRITER_ERROR_CODES, type WriterErrorCode } from './errors.js';
export { decodeEvent, type DecodeProblem, type DecodeResult } from '@phi-audit/bus-kafka';
export { REJECTED_HEADERS, rejectedTopicOf, type RejectedMessage } from './rejected-sink.js';
export { MetricsServer, startMetricsServer, type MetricsServerOptions } from '@phi-audit/service-runtime';
export { DedupeWindow, keyDigest } from './dedupe-window.js';
export { DEFAULT_WRITER_MAX_HEAP_MB, runWithHeapLimit } from './heap-limit.js';
