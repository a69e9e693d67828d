import type { WidgetChange } from './flow-edits';

/* What the deploy's Twilio half reads and returns (twilio.ts does the work). */

export interface ServiceInfo {
  sid: string;
  uniqueName: string;
}

export interface EnvironmentInfo {
  sid: string;
  uniqueName: string;
  domainName: string;
  buildSid: string | null;
}

export interface BuildInfo {
  sid: string;
  status: string;
  functions: { path: string; sid: string }[];
  assets: string[];
}

export interface FlowInfo {
  sid: string;
  revision: number;
  status: string;
  valid: boolean;
  webhookUrl: string;
}

export interface NumberInfo {
  sid: string;
  phoneNumber: string;
  smsUrl: string;
}

export interface TwilioInventory {
  service?: ServiceInfo;
  environment?: EnvironmentInfo;
  build?: BuildInfo;
  /** The environment's variables, by key (values are secrets: never print them). */
  variables: Record<string, string>;
  /** Every flow named FLOW_NAME; more than one means someone created duplicates by hand. */
  flows: FlowInfo[];
  /** Undefined when no number was asked for, or when the account does not own it. */
  number?: NumberInfo;
  verifyService?: { sid: string; friendlyName: string };
}

export interface FunctionsDeployment {
  serviceSid: string;
  environmentSid: string;
  buildSid: string;
  domain: string;
  /** Function SIDs by path without the leading slash (`studio/reply`), as renderFlow takes them. */
  functionSids: Record<string, string>;
  functionPaths: string[];
  assetPaths: string[];
}

export type Outcome = 'created' | 'updated' | 'unchanged';

export interface FlowEdits {
  /** The revision Studio serves now, and whether it is published or a draft saved in the canvas. */
  revision: number;
  status: string;
  /** The newest revision the deploy published; undefined when none was (a flow made by hand). */
  deployedRevision: number | undefined;
  /** Empty when overwriting loses nothing. */
  changes: WidgetChange[];
}

export interface TwilioTarget {
  inspect(query: { phoneNumber?: string; verifyServiceSid?: string; verifyServiceName: string }): Promise<TwilioInventory>;
  deployFunctions(input: {
    serviceSid?: string;
    serviceDir: string;
    env: Record<string, string>;
    onProgress: (line: string) => void;
  }): Promise<FunctionsDeployment>;
  /** Makes the environment's variables exactly `env`; returns the keys that changed. */
  setVariables(serviceSid: string, environmentSid: string, env: Record<string, string>): Promise<{ changed: string[]; removed: string[] }>;
  validateFlow(definition: Record<string, unknown>): Promise<void>;
  /** How the flow Studio serves now differs from the revision `npm run deploy` last published. */
  flowEdits(sid: string, incoming: Record<string, unknown>): Promise<FlowEdits>;
  /** `replacing`: the canvas revision this save knowingly overwrites (named in the commit message). */
  saveFlow(
    existingSid: string | undefined,
    definition: Record<string, unknown>,
    replacing?: number,
  ): Promise<FlowInfo & { outcome: Outcome }>;
  pointNumber(numberSid: string, smsUrl: string): Promise<Outcome>;
  /** The Messaging Service, or undefined when the account has none with this SID. */
  fetchMessagingService(sid: string): Promise<{ sid: string; statusCallback: string } | undefined>;
  /**
   * Sets the service's Delivery Status Callback (where Twilio posts the status of every text it
   * sends) and "Defer to sender's webhook", so replies still reach the flow through the number.
   */
  pointStatusCallback(serviceSid: string, url: string): Promise<Outcome>;
  ensureVerifyService(friendlyName: string): Promise<{ sid: string; outcome: Outcome }>;
  deleteService(sid: string): Promise<void>;
  deleteFlow(sid: string): Promise<void>;
  deleteVerifyService(sid: string): Promise<void>;
}

export interface TwilioCredentials {
  accountSid: string;
  apiKeySid: string;
  apiKeySecret: string;
  /** The local stand-in; unset in production. */
  apiBaseUrl?: string;
}
