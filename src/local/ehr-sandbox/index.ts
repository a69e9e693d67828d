export { EhrSandbox, signEhrBody, type EhrBehaviour, type EhrOutcome, type EhrRequest, type EhrSandboxOptions } from './sandbox';
export { createEhrSandboxRouter, EhrBehaviourInput } from './router';
export { SandboxFhir, type FhirRead, type SandboxFhirOptions } from './fhir';
