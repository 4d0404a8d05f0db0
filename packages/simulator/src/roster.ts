import { isWeekday, type LocalCalendar } from './local-time.js';
import type { FacilityProfile } from './profiles.js';
import type { Role, Shift, WorkforceMember } from './reference-data.js';

/** One member's working shift on one local day. */
export interface ShiftInstance {
  member: WorkforceMember;
  start: number;
  end: number;
}

/**
 * Who works when. Office staff work every weekday; round-the-clock groups of three or more
 * rotate five days on, two off, staggered so that someone always covers the shift.
 */
export interface Roster {
  /** Active members of a department and role on duty at `at` (possibly none). */
  onDuty(department: string, role: Role, at: number): readonly WorkforceMember[];
  /** Every shift that starts on local `day`. */
  shiftsStarting(day: number): ShiftInstance[];
  /** Whether the member is working at `at`. */
  isOnDuty(member: WorkforceMember, at: number): boolean;
}

interface Slot {
  member: WorkforceMember;
  shift: Shift;
  /** Position within its department/role/shift group, for the staggered rotation. */
  index: number;
  groupSize: number;
}

/** Builds the roster of a facility's active workforce. */
export function createRoster(options: {
  profile: FacilityProfile;
  calendar: LocalCalendar;
  workforce: readonly WorkforceMember[];
}): Roster {
  const { profile, calendar } = options;
  const byRole = new Map<string, Slot[]>();
  const byUser = new Map<string, Slot>();
  const groups = new Map<string, WorkforceMember[]>();
  for (const member of options.workforce) {
    if (member.status !== 'active') continue;
    const key = `${member.department}/${member.role}/${member.shift}`;
    groups.set(key, [...(groups.get(key) ?? []), member]);
  }
  for (const members of groups.values()) {
    members.forEach((member, index) => {
      const shift = profile.shifts[member.shift];
      if (!shift) throw new Error(`profile ${profile.name} has no ${member.shift} shift`);
      const slot: Slot = { member, shift, index, groupSize: members.length };
      const key = `${member.department}/${member.role}`;
      byRole.set(key, [...(byRole.get(key) ?? []), slot]);
      byUser.set(member.userId, slot);
    });
  }

  // Shift windows are asked for constantly; local-time conversion is the expensive part.
  const windows = new Map<string, readonly [number, number]>();
  const windowOf = (shift: Shift, day: number): readonly [number, number] => {
    const key = `${shift.name}/${day}`;
    let w = windows.get(key);
    if (!w) {
      if (windows.size > 256) windows.clear();
      w = [calendar.instant(day, shift.startMinute), calendar.instant(day, shift.startMinute + shift.minutes)];
      windows.set(key, w);
    }
    return w;
  };
  const works = (slot: Slot, day: number): boolean => {
    if (slot.shift.weekdaysOnly) return isWeekday(day);
    return slot.groupSize < 3 || (((day + slot.index) % 7) + 7) % 7 < 5;
  };
  const covers = (slot: Slot, at: number, today: number): boolean => {
    if (slot.member.hiredAt > at) return false;
    for (const day of [today, today - 1]) {
      const [start, end] = windowOf(slot.shift, day);
      if (at >= start && at < end && works(slot, day)) return true;
    }
    return false;
  };

  return {
    onDuty(department, role, at) {
      const today = calendar.dayOf(at);
      return (byRole.get(`${department}/${role}`) ?? []).filter((slot) => covers(slot, at, today)).map((s) => s.member);
    },
    shiftsStarting(day) {
      const out: ShiftInstance[] = [];
      for (const slot of byUser.values()) {
        if (!works(slot, day)) continue;
        const [start, end] = windowOf(slot.shift, day);
        if (slot.member.hiredAt <= start) out.push({ member: slot.member, start, end });
      }
      return out;
    },
    isOnDuty(member, at) {
      const slot = byUser.get(member.userId);
      return slot !== undefined && covers(slot, at, calendar.dayOf(at));
    },
  };
}
