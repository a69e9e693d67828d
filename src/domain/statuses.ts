/**
 * An appointment's statuses and the groups the code decides by, declared once so that a new
 * status is placed in a group here rather than missed in one of the places that test for it. No
 * imports, like event-types.ts, so that the admin page's bundle could include it too.
 */
export const BASE_STATUSES = ['QUEUED', 'REMINDED-1', 'REMINDED-2', 'CONFIRMED', 'CANCELED', 'NOSHOWED', 'EXPIRED'] as const;
export type StatusName = (typeof BASE_STATUSES)[number];

/** Still on and not answered: reminders may still go out, the sweep may expire it. */
export const REMINDABLE_STATUSES = ['QUEUED', 'REMINDED-1', 'REMINDED-2'] as const satisfies readonly StatusName[];
export type RemindableStatus = (typeof REMINDABLE_STATUSES)[number];

/** Still on: the patient may be texted about it and may answer. */
export const ACTIVE_STATUSES = [...REMINDABLE_STATUSES, 'CONFIRMED'] as const satisfies readonly StatusName[];
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];

/** Off: canceled, missed or passed unanswered. A new booking revives it. */
export const CLOSED_STATUSES = ['CANCELED', 'NOSHOWED', 'EXPIRED'] as const satisfies readonly StatusName[];
export type ClosedStatus = (typeof CLOSED_STATUSES)[number];

// Guards take any string: dispositions (a status or OPTED-OUT) and listed keys are strings too.
export function isRemindable(status: string): status is RemindableStatus {
  return (REMINDABLE_STATUSES as readonly string[]).includes(status);
}

export function isActive(status: string): status is ActiveStatus {
  return (ACTIVE_STATUSES as readonly string[]).includes(status);
}

export function isClosed(status: string): status is ClosedStatus {
  return (CLOSED_STATUSES as readonly string[]).includes(status);
}
