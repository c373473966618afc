/**
 * The input and result shapes of the nine files operations, one section each. Kept as one file: the
 * @nestjs/swagger plugin turns each field's doc comment into the description a model reads, so this is
 * the whole files surface as callers see it, reviewed in one place; it passes 300 lines only because
 * every field carries that comment.
 */
import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  IsObject,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { HostInput } from '../../../common/host-input.dto.js';
import { NoNulBytes } from '../../../common/no-nul-bytes.js';

/** Limits shared by the DTOs, the service and the operation descriptions. */
export const FILES_LIMITS = {
  /** Longest path accepted, in characters (Linux PATH_MAX is 4096 bytes). */
  pathChars: 4096,
  readMaxBytes: 4 * 1024 * 1024,
  /** files_read hashes the whole file up to this size. */
  hashMaxBytes: 8 * 1024 * 1024,
  /** Largest file files_write writes and files_edit edits (decoded bytes). */
  writeMaxBytes: 10 * 1024 * 1024,
  listMaxEntries: 1000,
  /** Matches looked for when max_results is not given (then cut to the host's answer size). */
  searchDefaultResults: 100,
  searchMaxResults: 1000,
  searchMaxVisited: 100_000,
  searchMaxSeconds: 10,
  editMaxEdits: 100,
} as const;

const SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * A field holding a path on the host, before the jail resolves it; a NUL is refused before any lookup.
 * The rules are registered in the order their messages are reported: NUL, length, type.
 */
function FilePath(options: { optional?: boolean } = {}): PropertyDecorator {
  return applyDecorators(NoNulBytes(), MaxLength(FILES_LIMITS.pathChars), IsString(), ...(options.optional ? [IsOptional()] : []));
}

// ---------------------------------------------------------------------------------------------------------
// Shared output shapes

export class FileEntry {
  /** Name of the entry inside its directory. */
  name: string;
  /** Absolute path of the entry on the host. */
  path: string;
  /** What the entry is; a symbolic link is reported as "symlink" and not followed. */
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Size in bytes (for a symlink: the length of its target text). */
  size_bytes: number;
  /** Last modification time, ISO 8601. */
  modified_at: string;
  /** Permission bits as an octal string, e.g. "0644". */
  mode: string;
}

// ---------------------------------------------------------------------------------------------------------
// files_list

// The integer fields of these inputs are spelled out, not OptionalInt(): its explicit schema is listed
// before the plugin's, which would put them ahead of `path` in the spec, and a model reads them in order.
export class FilesListInput extends HostInput {
  /** Directory (default: the files root). */
  @FilePath({ optional: true })
  path?: string;

  /** At most 1000. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(FILES_LIMITS.listMaxEntries)
  max_entries?: number;
}

export class FilesListResult {
  /** Absolute path of the listed directory on the host (symlinks resolved). */
  path: string;
  /** The directory's entries sorted by name: by default as many as fit in the host's answer size, at most 1000. */
  entries: FileEntry[];
  /** True when the directory has more entries than are listed. */
  truncated: boolean;
  /** When entries were left out: how many, and how to see them. */
  note?: string;
}

// ---------------------------------------------------------------------------------------------------------
// files_read

export class FilesReadInput extends HostInput {
  /** Absolute, or relative to the files root. */
  @FilePath()
  path: string;

  /** Byte to start at (default 0). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  offset?: number;

  /** At most 4194304 (default 6 KiB). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(FILES_LIMITS.readMaxBytes)
  max_bytes?: number;
}

export class FilesReadResult {
  /** Absolute path of the file on the host (symlinks resolved). */
  path: string;
  /** The bytes read: text when encoding is utf-8, else base64. */
  content: string;
  /** "utf-8" when the bytes are UTF-8 text (no NUL bytes), "base64" otherwise. */
  encoding: 'utf-8' | 'base64';
  /** Size of the whole file in bytes. */
  size_bytes: number;
  /** Offset of the first byte returned. */
  offset: number;
  /** Number of file bytes this answer covers. */
  length_bytes: number;
  /** True when the file continues after this page. */
  truncated: boolean;
  /** Offset to pass to read the next page; null at the end of the file. */
  next_offset: number | null;
  /** SHA-256 (hex) of the whole file, for files_write/files_edit expected_sha256; null for files over 8 MiB (see sha256_note). */
  sha256: string | null;
  /** When the page does not reach the end of the file: what was left out and how to read it. */
  note?: string;
  /** Why sha256 is null, when it is. */
  sha256_note?: string;
  /** Last modification time, ISO 8601. */
  modified_at: string;
}

// ---------------------------------------------------------------------------------------------------------
// files_stat

export class FilesStatInput extends HostInput {
  /** Absolute, or relative to the files root. */
  @FilePath()
  path: string;
}

export class FilesStatResult {
  /** Absolute path on the host (symlinks resolved). */
  path: string;
  /** What the path leads to (a symlink is followed). */
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Size in bytes. */
  size_bytes: number;
  /** Last modification time, ISO 8601. */
  modified_at: string;
  /** Permission bits as an octal string, e.g. "0644". */
  mode: string;
}

// ---------------------------------------------------------------------------------------------------------
// files_search

export class FilesSearchInput extends HostInput {
  /** Directory (default: the files root). */
  @FilePath({ optional: true })
  path?: string;

  /** Name glob like find -name, e.g. "Modelfile*". */
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  @Matches(/^[^/\0]*$/, { message: 'pattern is a name pattern and must not contain "/" or NUL bytes' })
  pattern: string;

  /** At most 1000. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(FILES_LIMITS.searchMaxResults)
  max_results?: number;
}

export class FilesSearchResult {
  /** Absolute path of the searched directory on the host. */
  path: string;
  /** The pattern searched for. */
  pattern: string;
  /** Matching entries, shallowest first. */
  matches: FileEntry[];
  /** True when the search stopped before looking everywhere (see stopped_reason). */
  truncated: boolean;
  /** Why the search stopped early: "max_results", "max_entries" (100000 entries looked at) or "time_limit" (10 s); null when it finished. */
  stopped_reason: 'max_results' | 'max_entries' | 'time_limit' | null;
  /** Number of directory entries looked at. */
  entries_visited: number;
  /** Directories that could not be read (permission denied) and were skipped. */
  unreadable_directories: number;
  /** When matches were left out: how to see more. */
  note?: string;
}

// ---------------------------------------------------------------------------------------------------------
// files_write

export class FilesWriteInput extends HostInput {
  /** Absolute, or relative to the files root. */
  @FilePath()
  path: string;

  /** The whole new content. */
  // No length limit here: the 16 MiB body limit bounds it, and the service answers 413 above 10 MiB decoded.
  @IsString()
  content: string;

  /** utf-8 (default) or base64. */
  @IsOptional()
  @IsIn(['utf-8', 'base64'])
  encoding?: 'utf-8' | 'base64';

  /** sha256 from files_read: refuse (409) if the file changed since. */
  @IsOptional()
  @Matches(SHA256, { message: 'expected_sha256 must be 64 hexadecimal characters' })
  expected_sha256?: string;

  /** Create missing directories. */
  @IsOptional()
  @IsBoolean()
  create_parents?: boolean;
}

export class FilesWriteResult {
  /** Absolute path of the written file on the host. */
  path: string;
  /** Size of the new content in bytes. */
  size_bytes: number;
  /** SHA-256 (hex) of the new content. */
  sha256: string;
  /** True when the file did not exist before. */
  created: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// files_edit

export class FileEdit {
  /** Exact text; must occur once. */
  @IsString()
  @MinLength(1)
  @MaxLength(1024 * 1024)
  old_text: string;

  /** Replacement. */
  @IsString()
  @MaxLength(1024 * 1024)
  new_text: string;
}

export class FilesEditInput extends HostInput {
  /** Absolute, or relative to the files root. */
  @FilePath()
  path: string;

  /** Replacements, applied in order. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(FILES_LIMITS.editMaxEdits)
  @IsObject({ each: true }) // ValidateNested alone lets an array stand in for an item
  @ValidateNested({ each: true })
  @Type(() => FileEdit)
  edits: FileEdit[];

  /** Only return the diff. */
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;

  /** sha256 from files_read: refuse (409) if the file changed since. */
  @IsOptional()
  @Matches(SHA256, { message: 'expected_sha256 must be 64 hexadecimal characters' })
  expected_sha256?: string;
}

export class FilesEditResult {
  /** Absolute path of the edited file on the host. */
  path: string;
  /** Unified diff (3 lines of context) from the old content to the new. */
  diff: string;
  /** After applying: SHA-256 (hex) of the new content. After a dry run: of the current content (pass it as expected_sha256 to apply exactly this diff). */
  sha256: string;
  /** True when the file was changed; false for a dry run. */
  applied: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// files_mkdir

export class FilesMkdirInput extends HostInput {
  /** Directory, absolute or relative to the files root. */
  @FilePath()
  path: string;
}

export class FilesMkdirResult {
  /** Absolute path of the directory on the host. */
  path: string;
  /** False when the directory already existed. */
  created: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// files_move

export class FilesMoveInput extends HostInput {
  /** Path to move. */
  @FilePath()
  from: string;

  /** New full path. */
  @FilePath()
  to: string;

  /** Replace an existing file at to. */
  @IsOptional()
  @IsBoolean()
  overwrite?: boolean;
}

export class FilesMoveResult {
  /** Absolute old path on the host. */
  from: string;
  /** Absolute new path on the host. */
  to: string;
}

// ---------------------------------------------------------------------------------------------------------
// files_delete

export class FilesDeleteInput extends HostInput {
  /** Path to delete. */
  @FilePath()
  path: string;

  /** Needed to delete a directory and its contents. */
  @IsOptional()
  @IsBoolean()
  recursive?: boolean;
}

export class FilesDeleteResult {
  /** Absolute path of the deleted entry on the host. */
  path: string;
  /** What was deleted. */
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Number of entries removed, the path itself included. */
  entries_deleted: number;
}
