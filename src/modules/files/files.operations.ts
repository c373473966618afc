import { defineOperation } from '../../common/operation.js';
import {
  FilesDeleteInput,
  FilesDeleteResult,
  FilesEditInput,
  FilesEditResult,
  FilesListInput,
  FilesListResult,
  FilesMkdirInput,
  FilesMkdirResult,
  FilesMoveInput,
  FilesMoveResult,
  FilesReadInput,
  FilesReadResult,
  FilesSearchInput,
  FilesSearchResult,
  FilesStatInput,
  FilesStatResult,
  FilesWriteInput,
  FilesWriteResult,
} from './dto/files.dto.js';
import { FilesService } from './files.service.js';

// Every files operation works inside the host's files root (files_root; by default the SSH account's
// home). Paths may be absolute or relative to the root; anything that resolves outside it, through ".."
// or a symbolic link, is refused with 403 PATH_OUTSIDE_ROOT.
const JAIL =
  "Paths are absolute or relative to the files root (the account's home unless configured); paths leading outside it, also through symlinks, are refused with 403.";

export const filesList = defineOperation({
  id: 'files_list',
  area: 'files',
  method: 'GET',
  path: '/files/list',
  scope: 'read',
  summary: 'List a directory',
  description: `Lists the entries of a directory on the host: name, absolute path, type (file/directory/symlink/other), size in bytes, modification time and permission bits, sorted by name, at most 1000 (truncated says when there are more). Use it to see what is in a directory before reading or changing files; omit path for the files root. ${JAIL}`,
  input: FilesListInput,
  output: FilesListResult,
  service: FilesService,
  idempotent: true,
});

export const filesRead = defineOperation({
  id: 'files_read',
  area: 'files',
  method: 'GET',
  path: '/files/read',
  scope: 'read',
  summary: 'Read a file (paged)',
  description: `Reads a file on the host, one page at a time: max_bytes bytes (default 256 KiB, at most 4 MiB) from offset. Returns content (UTF-8 text, or base64 when the bytes are not text; encoding says which), size_bytes, truncated and next_offset (pass it as offset to read on; null at the end), sha256 of the whole file (for files up to 8 MiB; pass it as expected_sha256 to files_write/files_edit) and modified_at. Use it to show a Modelfile or a config, or the end of a log (offset = size_bytes - max_bytes). ${JAIL}`,
  input: FilesReadInput,
  output: FilesReadResult,
  service: FilesService,
  idempotent: true,
});

export const filesStat = defineOperation({
  id: 'files_stat',
  area: 'files',
  method: 'GET',
  path: '/files/stat',
  scope: 'read',
  summary: 'Describe a file or directory',
  description: `Reports whether a path exists on the host and what it is: absolute path (symlinks resolved), type, size in bytes, modification time and permission bits. Use it to check that a file exists or how big it is before reading it; a missing path is a 404. ${JAIL}`,
  input: FilesStatInput,
  output: FilesStatResult,
  service: FilesService,
  idempotent: true,
});

export const filesSearch = defineOperation({
  id: 'files_search',
  area: 'files',
  method: 'GET',
  path: '/files/search',
  scope: 'read',
  summary: 'Find files by name pattern',
  description: `Finds files and directories whose name matches a glob pattern (like find -name: "*.gguf", "Modelfile*", "config.y?ml") anywhere under a directory, shallowest first, without following symlinked directories. Returns the matches (same fields as files_list), and stops early at max_results (default 100), after 100000 entries or after 10 s; truncated and stopped_reason say so. Use it to locate a file when you do not know its directory. ${JAIL}`,
  input: FilesSearchInput,
  output: FilesSearchResult,
  service: FilesService,
  idempotent: true,
});

export const filesWrite = defineOperation({
  id: 'files_write',
  area: 'files',
  method: 'POST',
  path: '/files/write',
  scope: 'write',
  summary: 'Create or replace a file',
  description: `Writes the complete content of a file on the host (UTF-8 text, or base64 with encoding "base64"; at most 10 MiB), creating it or replacing it atomically (temp file + rename; a replaced file keeps its permissions). Pass expected_sha256 from files_read to refuse the write (409) if the file changed since; create_parents creates missing directories. Returns the path, size, sha256 and whether the file was created. To change part of a text file prefer files_edit. ${JAIL}`,
  input: FilesWriteInput,
  output: FilesWriteResult,
  service: FilesService,
  // It replaces whatever the file held; writing the same content again changes nothing more.
  destructive: true,
  idempotent: true,
});

export const filesEdit = defineOperation({
  id: 'files_edit',
  area: 'files',
  method: 'POST',
  path: '/files/edit',
  scope: 'write',
  summary: 'Edit a text file by replacing exact text',
  description: `Changes a UTF-8 text file on the host by exact text replacement: each edit's old_text must occur exactly once (409 names the edit that was not found or found several times, and nothing is changed); edits apply in order. Returns a unified diff of the change; with dry_run it only returns the diff. Written atomically, like files_write. Use it for "set temperature to 0.6 in the Modelfile": read the file, then replace the exact line. ${JAIL}`,
  input: FilesEditInput,
  output: FilesEditResult,
  service: FilesService,
  destructive: true,
});

export const filesMkdir = defineOperation({
  id: 'files_mkdir',
  area: 'files',
  method: 'POST',
  path: '/files/mkdir',
  scope: 'write',
  summary: 'Create a directory',
  description: `Creates a directory on the host, with any missing parents (like mkdir -p). Returns its absolute path and created: false when it already existed. ${JAIL}`,
  input: FilesMkdirInput,
  output: FilesMkdirResult,
  service: FilesService,
  idempotent: true,
});

export const filesMove = defineOperation({
  id: 'files_move',
  area: 'files',
  method: 'POST',
  path: '/files/move',
  scope: 'write',
  summary: 'Move or rename a file or directory',
  description: `Moves or renames a file, directory or symlink on the host; "to" is the full new path (its directory must exist). An existing file at "to" is replaced only with overwrite: true (else 409); a directory at "to" is never replaced. Both paths must be inside the files root. Returns the absolute old and new paths. ${JAIL}`,
  input: FilesMoveInput,
  output: FilesMoveResult,
  service: FilesService,
  destructive: true,
});

export const filesDelete = defineOperation({
  id: 'files_delete',
  area: 'files',
  method: 'POST',
  path: '/files/delete',
  scope: 'write',
  summary: 'Delete a file or directory',
  description: `Deletes a file or symlink (the link itself, never its target) on the host; a directory only with recursive: true, which deletes everything in it without following symlinks. The files root itself cannot be deleted (403). Returns the path, its type and how many entries were removed. This cannot be undone. ${JAIL}`,
  input: FilesDeleteInput,
  output: FilesDeleteResult,
  service: FilesService,
  destructive: true,
});
