import { MemoryAppointmentStore } from '../../src/storage/memory-appointment-store';
import { defineStoreContract } from './store-contract';
import { MemoryStaffRecords } from '../../src/storage/memory-staff-records';
import { defineStaffRecordsContract } from './staff-records-contract';

defineStoreContract('MemoryAppointmentStore', async () => new MemoryAppointmentStore());

defineStaffRecordsContract('MemoryStaffRecords', async () => new MemoryStaffRecords());
