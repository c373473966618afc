import { Body, Controller, Query } from '@nestjs/common';
import { Operation } from '../../operations/operation.js';
import {
  FilesDeleteInput,
  FilesEditInput,
  FilesListInput,
  FilesMkdirInput,
  FilesMoveInput,
  FilesReadInput,
  FilesSearchInput,
  FilesStatInput,
  FilesWriteInput,
} from './dto/files.dto.js';
import {
  filesDelete,
  filesEdit,
  filesList,
  filesMkdir,
  filesMove,
  filesRead,
  filesSearch,
  filesStat,
  filesWrite,
} from './files.operations.js';
import { FilesService } from './files.service.js';

@Controller()
export class FilesController {
  constructor(private readonly files: FilesService) {}

  @Operation(filesList)
  files_list(@Query() input: FilesListInput) {
    return this.files.files_list(input);
  }

  @Operation(filesRead)
  files_read(@Query() input: FilesReadInput) {
    return this.files.files_read(input);
  }

  @Operation(filesStat)
  files_stat(@Query() input: FilesStatInput) {
    return this.files.files_stat(input);
  }

  @Operation(filesSearch)
  files_search(@Query() input: FilesSearchInput) {
    return this.files.files_search(input);
  }

  @Operation(filesWrite)
  files_write(@Body() input: FilesWriteInput) {
    return this.files.files_write(input);
  }

  @Operation(filesEdit)
  files_edit(@Body() input: FilesEditInput) {
    return this.files.files_edit(input);
  }

  @Operation(filesMkdir)
  files_mkdir(@Body() input: FilesMkdirInput) {
    return this.files.files_mkdir(input);
  }

  @Operation(filesMove)
  files_move(@Body() input: FilesMoveInput) {
    return this.files.files_move(input);
  }

  @Operation(filesDelete)
  files_delete(@Body() input: FilesDeleteInput) {
    return this.files.files_delete(input);
  }
}
