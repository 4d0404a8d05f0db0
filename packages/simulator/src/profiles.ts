import type { Department, Role, Shift, ShiftName } from './reference-data.js';

/** Size and shape of a simulated facility. */
export type ProfileName = 'clinic' | 'hospital';

/** `count` active staff of one role in one department working one shift. */
export interface StaffGroup {
  department: string;
  role: Role;
  shift: ShiftName;
  count: number;
}

export interface FacilityProfile {
  name: ProfileName;
  departments: readonly Department[];
  shifts: Readonly<Partial<Record<ShiftName, Shift>>>;
  staff: readonly StaffGroup[];
  /** Former staff kept in the reference data (accounts that should no longer be used). */
  terminatedStaff: number;
  patients: number;
  /** Departments with scheduled outpatient appointments on weekdays. */
  outpatientDepartments: readonly string[];
  /** Hospital only: emergency visits per day and elective admissions per weekday per unit. */
  emergencyVisitsPerDay?: readonly [number, number];
  electiveAdmissions?: Readonly<Record<string, number>>;
}

const HOSPITAL_SHIFTS = {
  day: { name: 'day', startMinute: 7 * 60, minutes: 8 * 60, weekdaysOnly: false },
  evening: { name: 'evening', startMinute: 15 * 60, minutes: 8 * 60, weekdaysOnly: false },
  night: { name: 'night', startMinute: 23 * 60, minutes: 8 * 60, weekdaysOnly: false },
  office: { name: 'office', startMinute: 8 * 60, minutes: 9 * 60, weekdaysOnly: true },
} as const satisfies Record<ShiftName, Shift>;

/** [day, evening, night] counts for a role that works around the clock. */
function roundTheClock(department: string, role: Role, [day, evening, night]: [number, number, number]): StaffGroup[] {
  return [
    { department, role, shift: 'day', count: day },
    { department, role, shift: 'evening', count: evening },
    { department, role, shift: 'night', count: night },
  ];
}

const office = (department: string, role: Role, count: number): StaffGroup => ({
  department,
  role,
  shift: 'office',
  count,
});

/** A two-physician primary-care practice, open weekdays 08:00–18:00. */
export const CLINIC: FacilityProfile = {
  name: 'clinic',
  departments: [
    { id: 'primary_care', name: 'Primary Care' },
    { id: 'billing', name: 'Billing' },
  ],
  shifts: { office: { name: 'office', startMinute: 8 * 60, minutes: 10 * 60, weekdaysOnly: true } },
  staff: [
    office('primary_care', 'physician', 2),
    office('primary_care', 'nurse', 1),
    office('primary_care', 'medical_assistant', 2),
    office('primary_care', 'front_desk', 2),
    office('billing', 'billing', 1),
  ],
  terminatedStaff: 1,
  patients: 1_500,
  outpatientDepartments: ['primary_care'],
};

/** A community hospital: emergency department, two inpatient units with clinics, ancillaries and back office. */
export const HOSPITAL: FacilityProfile = {
  name: 'hospital',
  departments: [
    { id: 'emergency', name: 'Emergency' },
    { id: 'cardiology', name: 'Cardiology' },
    { id: 'oncology', name: 'Oncology' },
    { id: 'radiology', name: 'Radiology' },
    { id: 'primary_care', name: 'Primary Care' },
    { id: 'pharmacy', name: 'Pharmacy' },
    { id: 'billing', name: 'Billing' },
    { id: 'him', name: 'Health Information Management' },
  ],
  shifts: HOSPITAL_SHIFTS,
  staff: [
    ...roundTheClock('emergency', 'physician', [5, 5, 4]),
    ...roundTheClock('emergency', 'nurse', [15, 15, 12]),
    ...roundTheClock('emergency', 'front_desk', [4, 4, 3]),
    ...roundTheClock('cardiology', 'physician', [5, 3, 3]),
    ...roundTheClock('cardiology', 'nurse', [14, 12, 10]),
    ...roundTheClock('cardiology', 'front_desk', [2, 2, 1]),
    office('cardiology', 'physician', 4),
    office('cardiology', 'medical_assistant', 3),
    office('cardiology', 'front_desk', 3),
    ...roundTheClock('oncology', 'physician', [4, 3, 3]),
    ...roundTheClock('oncology', 'nurse', [12, 10, 8]),
    ...roundTheClock('oncology', 'front_desk', [2, 2, 1]),
    office('oncology', 'physician', 4),
    office('oncology', 'medical_assistant', 3),
    office('oncology', 'front_desk', 3),
    office('primary_care', 'physician', 10),
    office('primary_care', 'nurse', 4),
    office('primary_care', 'medical_assistant', 10),
    office('primary_care', 'front_desk', 6),
    ...roundTheClock('radiology', 'physician', [3, 3, 3]),
    ...roundTheClock('radiology', 'radiology_tech', [8, 6, 4]),
    ...roundTheClock('pharmacy', 'pharmacist', [6, 5, 4]),
    office('billing', 'billing', 25),
    office('him', 'him_clerk', 12),
  ],
  terminatedStaff: 10,
  patients: 20_000,
  outpatientDepartments: ['primary_care', 'cardiology', 'oncology'],
  emergencyVisitsPerDay: [95, 130],
  electiveAdmissions: { cardiology: 6, oncology: 4 },
};

export const PROFILES: Readonly<Record<ProfileName, FacilityProfile>> = { clinic: CLINIC, hospital: HOSPITAL };
