export { EhrSandbox, signEhrBody, type EhrBehaviour, type EhrOutcome, type EhrRequest, type EhrSandboxOptions } from './sandbox';
export { createEhrSandboxRouter, EhrBehaviourInput } from './router';
