import { MemoryAppointmentStore } from '../../src/storage/memory-appointment-store';
import { defineStoreContract } from './store-contract';

defineStoreContract('MemoryAppointmentStore', async () => new MemoryAppointmentStore());
