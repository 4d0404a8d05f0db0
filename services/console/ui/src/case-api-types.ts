/**
 * The shapes of the case, dashboard and ledger-status answers the UI reads (see /docs/json and
 * services/console/src/routes/case-schemas.ts, dashboard.ts, evidence-schemas.ts). Written here
 * rather than imported, like api-types.ts: the UI build must not pull in server packages.
 */
import type { AlertStatus } from './api-types.js';

export type CaseStatus = 'open' | 'investigating' | 'closed';
export type RiskLevel = 'low' | 'medium' | 'high';
export type AssessmentConclusion = 'low_probability_of_compromise' | 'breach';
export type RiskFactor = 'natureAndExtent' | 'unauthorizedPerson' | 'acquiredOrViewed' | 'mitigation';

export interface NoticeDeadline {
  /** YYYY-MM-DD. */
  deadline: string;
  /** Calendar days from today: 0 on the day, negative when past. */
  daysRemaining: number;
  overdue: boolean;
}

/** The HIPAA breach notification clock of a case (packages/rules/src/breach-clock.ts). */
export interface BreachClock {
  status: 'running' | 'not_a_breach';
  discoveredOn: string;
  today: string;
  individuals: NoticeDeadline;
  hhs: (NoticeDeadline & { notice: 'contemporaneous' | 'annual_log' }) | { notice: 'unknown' };
  media: (NoticeDeadline & { notice: 'required' | 'possible' }) | { notice: 'not_required' | 'unknown' };
}

export interface CaseSummary {
  caseId: string;
  title: string;
  status: CaseStatus;
  openedAt: number;
  openedBy: string;
  updatedAt: number;
  alertCount: number;
  discoveredOn: string;
  conclusion?: AssessmentConclusion;
  breachClock: BreachClock;
}

export interface CaseAlert {
  alertId: string;
  ruleId: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  riskScore: number;
  userId: string;
  patientId?: string;
  day: string;
  explanation: string;
  status: AlertStatus;
}

export interface FactorAssessment {
  level: RiskLevel;
  notes: string;
}

export interface Assessment {
  factors: Record<RiskFactor, FactorAssessment>;
  conclusion: AssessmentConclusion;
  rationale: string;
}

export interface BreachFacts {
  discoveredOn: string;
  affectedIndividuals: number;
  largestJurisdictionCount?: number;
  reason: string;
}

interface EventBase {
  caseId: string;
  eventId: string;
  at: number;
  by: string;
}

/** One event of a case's history. */
export type CaseHistoryEvent = EventBase &
  (
    | { kind: 'opened'; title: string; summary: string; alertIds: string[]; discoveredOn: string }
    | { kind: 'note'; text: string }
    | { kind: 'status'; status: CaseStatus; reason: string }
    | { kind: 'alerts_linked'; alertIds: string[] }
    | ({ kind: 'assessment' } & Assessment)
    | ({ kind: 'breach_facts' } & BreachFacts)
  );

export interface CaseDetail {
  caseId: string;
  title: string;
  summary: string;
  status: CaseStatus;
  openedAt: number;
  openedBy: string;
  updatedAt: number;
  discoveredOn: string;
  alertIds: string[];
  notes: { at: number; by: string; text: string }[];
  assessment?: Assessment & { at: number; by: string };
  breachFacts?: BreachFacts & { at: number; by: string };
  breachClock: BreachClock;
  alerts: CaseAlert[];
  history: CaseHistoryEvent[];
}

export interface DashboardData {
  days: number;
  volume: {
    bucket: 'hour' | 'day';
    from: number;
    to: number;
    /** Only buckets holding events, start ascending. */
    buckets: { start: number; events: number; failures: number; users: number }[];
  };
  alerts: {
    open: number;
    byRule: Record<string, number>;
    bySeverity: Partial<Record<'low' | 'medium' | 'high' | 'critical', number>>;
    oldestOpenFirstEventAt?: number;
    backlog: { under1d: number; d1to7: number; d7to30: number; over30: number };
  };
  cases: {
    open: number;
    investigating: number;
    closed: number;
    nextDeadline?: { caseId: string; deadline: string; daysRemaining: number };
  };
}

export interface LogStatus {
  origin: string;
  size: number;
  checkpoint: { size: number; timestamp: number; keyName: string } | null;
  signatureValid: boolean;
  uncheckpointed: number;
  rootMatchesTiles: boolean | null;
  problems: string[];
  checkedAt: number;
}

export interface LedgerStatus {
  tenant: string;
  verifierKeys: string[];
  logs: LogStatus[];
}
