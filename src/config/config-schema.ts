import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { ALL_SCOPES, LOG_LEVELS, type LogLevelSetting, type Scope } from './config.types.js';
import { HOST_KEY_FINGERPRINT_PATTERN, HOST_KEY_FINGERPRINT_RULE } from './host-names.js';
import { declaredFields, nearestName } from './nearest-name.js';

// ---- the YAML file's shape (snake_case, as documented in config.example.yaml) ----

export class RawSsh {
  @IsString() @MinLength(1) host: string;
  @IsOptional() @IsInt() @Min(1) @Max(65535) port?: number;
  @IsOptional() @IsString() @MinLength(1) user?: string;
  @IsOptional() @IsString() private_key_path?: string;
  @IsOptional() @IsString() passphrase?: string;
  @IsOptional() @IsString() known_hosts?: string;
  @IsOptional()
  @Matches(HOST_KEY_FINGERPRINT_PATTERN, { message: `must look like ${HOST_KEY_FINGERPRINT_RULE}` })
  host_key_fingerprint?: string;
  @IsOptional() @IsInt() @Min(1) @Max(64) max_channels?: number;
  @IsOptional() @IsInt() @Min(1) @Max(8) max_connections?: number;
  @IsOptional() @IsBoolean() warm_shells?: boolean;
  @IsOptional() @IsInt() @Min(1) @Max(120) connect_timeout_seconds?: number;
}

export class RawShell {
  @IsOptional() @IsBoolean() enabled?: boolean;
  @IsOptional() @IsInt() @Min(1) @Max(86_400) default_timeout_seconds?: number;
  @IsOptional() @IsInt() @Min(1) @Max(86_400) max_timeout_seconds?: number;
  @IsOptional() @IsInt() @Min(1024) @Max(16 * 1024 * 1024) max_output_bytes?: number;
  @IsOptional() @IsInt() @Min(1024) @Max(1024 * 1024 * 1024 * 1024) max_read_bytes?: number;
  @IsOptional() @IsArray() @IsString({ each: true }) allow?: string[];
  @IsOptional() @IsArray() @IsString({ each: true }) deny?: string[];
}

const HTTP_URL = /^https?:\/\/[^\s/]+(\/.*)?$/;

export class RawOllama {
  @IsOptional() @Matches(HTTP_URL, { message: 'must be an http:// or https:// URL' }) url?: string;
  @IsOptional() @IsBoolean() tunnel?: boolean;
}

export class RawResults {
  @IsOptional() @IsInt() @Min(4096) @Max(4 * 1024 * 1024) default_max_bytes?: number;
}

export class RawHost {
  @IsOptional() @IsIn(['ssh', 'local']) transport?: 'ssh' | 'local';
  @IsOptional() @ValidateNested() @Type(() => RawSsh) ssh?: RawSsh;
  @IsOptional() @ValidateNested() @Type(() => RawOllama) ollama?: RawOllama;
  /** The older spelling of ollama.url. */
  @IsOptional() @Matches(HTTP_URL, { message: 'must be an http:// or https:// URL' }) ollama_url?: string;
  @IsOptional() @IsString() @Matches(/^\//, { message: 'must be an absolute path' }) files_root?: string;
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @Matches(/^(default|(~\/)?\/?(?!\.\.?(\/|$))[^/\0]+(\/(?!\.\.?(\/|$))[^/\0]+)*\/?)$/, {
    each: true,
    message: 'each entry must be "default" or a path of names such as ".ssh", ".config/gh" or "/etc/shadow" (no "." or "..")',
  })
  files_protected_paths?: string[];
  @IsOptional() @IsString() @MinLength(1) nvidia_smi_path?: string;
  @IsOptional() @IsString() @Matches(/^\//, { message: 'must be an absolute path' }) ollama_models_dir?: string;
  @IsOptional() @ValidateNested() @Type(() => RawShell) shell?: RawShell;
  @IsOptional() @ValidateNested() @Type(() => RawResults) results?: RawResults;
}

export class RawKey {
  @IsOptional() @IsString() @MinLength(16, { message: 'must be at least 16 characters' }) key?: string;
  @IsOptional() @Matches(/^[0-9a-f]{64}$/, { message: 'must be 64 lowercase hex characters' }) sha256?: string;
  @IsArray() @ArrayUnique() @IsIn(ALL_SCOPES, { each: true }) scopes: Scope[];
}

export class RawServer {
  @IsOptional() @IsInt() @Min(0) @Max(65535) port?: number;
  @IsOptional() @IsString() @MinLength(1) bind_address?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) cors_origins?: string[];
  @IsOptional() @IsArray() @IsString({ each: true }) allowed_hosts?: string[];
  @IsOptional() @IsString() audit_log?: string;
  @IsOptional() @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }) log_level?: LogLevelSetting;
}

export class RawGpu {
  // YAML 1.1 readers (and people) write on/off as booleans; both spellings mean the same.
  @IsOptional() @IsIn(['on', 'off', true, false], { message: 'must be on or off' }) sampler?: 'on' | 'off' | boolean;
  @IsOptional() @IsInt() @Min(200) @Max(60_000) sample_interval_ms?: number;
  @IsOptional() @IsInt() @Min(1) @Max(7 * 24 * 3600) sampler_idle_seconds?: number;
  @IsOptional() @IsIn(['auto', 'always']) history?: 'auto' | 'always';
}

export class RawConfig {
  @IsOptional() @ValidateNested() @Type(() => RawServer) server?: RawServer;
  @IsOptional() @ValidateNested() @Type(() => RawGpu) gpu?: RawGpu;
  @IsOptional() @IsString() @MaxLength(64) default_host?: string;
  // Maps are validated entry by entry by the loader (class-validator has no typed record support).
  // Typed as Object so class-transformer does not take an entry named "constructor" (a valid host
  // name) for the map's class and fail on it.
  @IsOptional() @IsObject() @Type(() => Object) keys?: Record<string, unknown>;
  @IsOptional() @IsObject() @Type(() => Object) hosts?: Record<string, unknown>;
}

// ---- what a violation says ----

/** The first rule a mapping breaks: its path below the mapping (dotted) and the text that says what is wrong. */
export interface Violation {
  path: string;
  text: string;
}

/** Reads a YAML mapping into `cls`, refusing unknown keys; the violation is undefined when it is valid. */
export function readSection<T extends object>(cls: new () => T, value: object): { section: T; violation?: Violation } {
  const section = plainToInstance(cls, value);
  return { section, violation: firstViolation(validateSync(section, { whitelist: true, forbidNonWhitelisted: true })) };
}

const STRING_RULES = new Set(['isString', 'matches', 'minLength', 'maxLength']);

function firstViolation(errors: ValidationError[], prefix: string[] = []): Violation | undefined {
  for (const e of errors) {
    const path = [...prefix, e.property];
    if (e.constraints) {
      const texts = Object.values(e.constraints);
      let text: string;
      if (texts.some((t) => t.startsWith('property '))) {
        const near = nearestName(e.property, declaredFields(e.target?.constructor));
        text = `unknown key${near ? ` (did you mean ${near}?)` : ''}`;
      } else if (e.value === undefined) {
        text = 'required';
      } else if (
        (typeof e.value === 'number' || typeof e.value === 'boolean') &&
        Object.keys(e.constraints).some((k) => STRING_RULES.has(k))
      ) {
        // YAML turns unquoted digits (a digest of zeros, a numeric key) into a number, and true/false into booleans.
        const read = typeof e.value === 'number' ? `the number ${e.value}` : e.value;
        text = `${texts[0].replace(new RegExp(`^${e.property} `), '')}; YAML read this as ${read}: quote the value`;
      } else if (typeof e.value === 'string' && ('isInt' in e.constraints || 'isBoolean' in e.constraints)) {
        const shown = JSON.stringify(e.value.length > 40 ? `${e.value.slice(0, 40)}…` : e.value);
        text = 'isInt' in e.constraints ? `${shown} is not a number` : `${shown} is not true or false`;
      } else {
        text = texts[0].replace(new RegExp(`^${e.property} `), '');
      }
      return { path: path.join('.'), text };
    }
    const nested = firstViolation(e.children ?? [], path);
    if (nested) return nested;
  }
  return undefined;
}
