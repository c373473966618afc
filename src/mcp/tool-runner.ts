import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AuthService, type Caller } from '../operations/auth.js';
import { CallRecorder } from '../operations/call-recorder.js';
import { toAppError } from '../common/errors.js';
import { AppError, errorBody } from '../common/errors.js';
import { findOperation, openApiPath, operations, type OperationDef, type PresentedResult } from '../operations/operation.js';
import { validateInput } from '../common/validation.js';
import { OpenApiDocuments } from '../openapi/openapi.controller.js';
import { inputSchemaOf, type JsonSchema } from './tool-schemas.js';

export interface McpTool {
  name: string;
  title: string;
  description: string;
  inputSchema: JsonSchema;
  annotations: { readOnlyHint: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint: boolean };
  /** MCP Apps (io.modelcontextprotocol/ui): the resource that renders this tool's results. */
  _meta?: { ui: { resourceUri: string } };
}

export interface ToolResult {
  [key: string]: unknown;
  content: Array<{ type: 'text'; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** Progress reporter handed to long operations (pull, create) when the MCP client asked for it. */
export type ProgressSink = (progress: { progress: number; total?: number; message?: string }) => void;

/** Extra context an operation's service method may receive as its second argument. */
export interface CallContext {
  caller: Caller;
  onProgress?: ProgressSink;
  signal?: AbortSignal;
}

/**
 * Runs operations for the MCP surface with the same rules as REST: scope check, the same validation
 * of the same DTO, the same service method, the same audit record and error shape.
 */
@Injectable()
export class ToolRunner {
  private tools?: Map<string, McpTool>;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly auth: AuthService,
    private readonly calls: CallRecorder,
    private readonly docs: OpenApiDocuments,
  ) {}

  /** Tools the caller's scopes allow, all in one list (Open WebUI reads one page). */
  list(caller: Caller): McpTool[] {
    return [...this.allTools().values()].filter((t) => caller.scopes.has(findOperation(t.name)!.scope));
  }

  async call(
    caller: Caller,
    name: string,
    args: unknown,
    extra: { onProgress?: ProgressSink; signal?: AbortSignal } = {},
  ): Promise<ToolResult> {
    const op = findOperation(name);
    const started = performance.now();
    const argsObject = (args ?? {}) as Record<string, unknown>;
    let status = 200;
    let code: string | undefined;
    try {
      if (!op) throw new AppError(404, 'NOT_FOUND', `No tool named "${name}"; call tools/list to see the available tools.`);
      this.auth.authorize(caller, op);
      const input = await this.validate(op, argsObject);
      const service = this.moduleRef.get(op.service, { strict: false }) as Record<
        string,
        (input: unknown, ctx: CallContext) => Promise<object>
      >;
      const result = await service[op.id](input, { caller, onProgress: op.progress ? extra.onProgress : undefined, signal: extra.signal });
      if (op.html) {
        const presented = result as PresentedResult;
        return { content: [{ type: 'text', text: presented.text }], structuredContent: presented.structured };
      }
      return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result as Record<string, unknown> };
    } catch (err) {
      const e = toAppError(err);
      status = e.status;
      code = e.code;
      const body = errorBody(e);
      return { content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: { ...body }, isError: true };
    } finally {
      if (op) this.calls.record(op, { caller, args: argsObject, status, code, startedAt: started, surface: 'mcp' });
    }
  }

  /** Validates the path-parameter part and the query/body part of the arguments with their DTOs. */
  private async validate(op: OperationDef, args: Record<string, unknown>): Promise<object> {
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      throw new AppError(400, 'VALIDATION_FAILED', 'Invalid input: the arguments must be a JSON object.');
    }
    if (!op.params) return validateInput(op.input, args);
    const paramNames = Object.keys(this.allTools().get(op.id)!.inputSchema.properties as object).filter((k) => op.path.includes(`:${k}`));
    const paramArgs = Object.fromEntries(Object.entries(args).filter(([k]) => paramNames.includes(k)));
    const rest = Object.fromEntries(Object.entries(args).filter(([k]) => !paramNames.includes(k)));
    const [params, input] = await Promise.all([validateInput(op.params, paramArgs), validateInput(op.input, rest)]);
    return { ...input, ...params };
  }

  private allTools(): Map<string, McpTool> {
    if (!this.tools) {
      const doc = this.docs.get('full');
      this.tools = new Map(
        operations().map((op) => [
          op.id,
          {
            name: op.id,
            title: op.summary,
            description: op.description,
            inputSchema: inputSchemaOf(doc, openApiPath(op), op.method === 'GET' ? 'get' : 'post'),
            // tools/list goes into every prompt: no annotations.title (the title says the same), and no
            // destructive or idempotent hint on read-only tools (the spec gives them meaning only for writes).
            annotations:
              op.scope === 'read'
                ? { readOnlyHint: true, openWorldHint: false }
                : {
                    readOnlyHint: false,
                    destructiveHint: op.destructive ?? false,
                    idempotentHint: op.idempotent ?? false,
                    openWorldHint: false,
                  },
            ...(op.uiResourceUri ? { _meta: { ui: { resourceUri: op.uiResourceUri } } } : {}),
          },
        ]),
      );
    }
    return this.tools;
  }
}
