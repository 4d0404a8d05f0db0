/**
 * The shapes of the console API's answers the UI reads (see /docs/json). Written here rather than
 * imported: the UI is built for the browser and must not pull server packages into its build.
 */

export interface Alert {
  alertId: string;
  tenant: string;
  ruleId: string;
  userId: string;
  patientId?: string;
  day: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  riskScore: number;
  explanation: string;
  evidence: { source: string; eventId: string; occurredAt: number }[];
  truncated: boolean;
  firstEventAt: number;
  lastEventAt: number;
}

export interface Decision {
  decision: 'appropriate' | 'false_positive' | 'escalated';
  reason: string;
  decidedBy: string;
  decidedAt: number;
  caseId?: string;
}

export type AlertStatus = 'open' | Decision['decision'];

export interface AlertPage {
  total: number;
  limit: number;
  offset: number;
  items: { alert: Alert; status: AlertStatus; decision?: Decision }[];
}

/** One row of the access log (search results and timelines). */
export interface AccessRow {
  origin: string;
  index: number;
  eventId: string;
  occurredAt: number;
  sourceSystem: string;
  userId: string;
  userRole?: string;
  userDepartment?: string;
  workstation?: string;
  patientId?: string;
  action: string;
  resourceType: string;
  outcome: string;
}

/** An evidence event as the ledger holds it. */
export interface EvidenceEntry {
  origin: string;
  index: number;
  event: {
    eventId: string;
    occurredAt: number;
    source: { system: string; site?: string };
    actor: { userId: string; name?: string; role?: string; department?: string; workstation?: string };
    patient?: { id: string };
    action: string;
    resource: { type: string; id?: string };
    outcome: string;
    purposeOfUse?: string;
  };
  columnMismatch?: string;
}

export interface AlertDetail {
  alert: Alert;
  status: AlertStatus;
  decisions: Decision[];
  evidence: EvidenceEntry[];
  missingEvidence: number;
  timelineWindow: { from: number; to: number };
  userTimeline: AccessRow[];
  patientTimeline: AccessRow[] | null;
}

export interface SearchPage {
  items: AccessRow[];
  limit: number;
  next: string | null;
}

export interface AccessReport {
  patientId: string;
  from: number;
  to: number;
  totalAccesses: number;
  truncated: boolean;
  users: {
    userId: string;
    role: string;
    department: string;
    accesses: number;
    first: number;
    last: number;
    actions: Record<string, number>;
  }[];
}
