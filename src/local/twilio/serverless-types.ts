/* The Serverless v1 resources the local stand-in keeps (serverless.ts), as its REST surface shows them. */

export type Visibility = 'public' | 'protected' | 'private';
export type ResourceKind = 'function' | 'asset';
export type BuildStatus = 'building' | 'completed' | 'failed';

export interface ServerlessService {
  sid: string;
  accountSid: string;
  uniqueName: string;
  friendlyName: string;
  includeCredentials: boolean;
  uiEditable: boolean;
  /** `<unique name>-<4 digits>`: every environment's domain starts with it. */
  domainBase: string;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface ServerlessEnvironment {
  sid: string;
  serviceSid: string;
  uniqueName: string;
  domainSuffix: string | null;
  domainName: string;
  buildSid: string | null;
  dateCreated: Date;
  dateUpdated: Date;
}

/** A Function or an Asset: only a name; its code or content lives in versions. */
export interface ServerlessResource {
  sid: string;
  serviceSid: string;
  kind: ResourceKind;
  friendlyName: string;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface ServerlessVersion {
  sid: string;
  serviceSid: string;
  resourceSid: string;
  kind: ResourceKind;
  path: string;
  visibility: Visibility;
  content: Buffer;
  contentType: string;
  dateCreated: Date;
}

export interface ServerlessBuild {
  sid: string;
  serviceSid: string;
  functionVersions: string[];
  assetVersions: string[];
  dependencies: { name: string; version: string }[];
  runtime: string;
  status: BuildStatus;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface ServerlessDeployment {
  sid: string;
  serviceSid: string;
  environmentSid: string;
  /** Null for a deployment made without a build: the environment then serves nothing. */
  buildSid: string | null;
  dateCreated: Date;
}

export interface ServerlessVariable {
  sid: string;
  serviceSid: string;
  environmentSid: string;
  key: string;
  value: string;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface LocalServerlessOptions {
  accountSid: string;
  clock?: { now(): number };
  /**
   * How long a build stays `building` before it is `completed`, in milliseconds of `clock` from
   * the build's creation (Twilio takes seconds). Reading the status does not move it along.
   */
  buildMs?: number;
  /** Twilio's default runtime when a build names none. */
  defaultRuntime?: string;
}
