import { Controller, Get, Injectable, Param } from '@nestjs/common';
import { ApiExcludeController, type OpenAPIObject } from '@nestjs/swagger';
import { AppError } from '../common/errors.js';
import { Public } from '../operations/operation.js';
import { PROFILES, profileOf, type Profile } from './openapi.js';

/**
 * The spec documents, built once after the application is created (the document needs the app's
 * routes, so it cannot be built inside the module graph) and served as static JSON.
 */
@Injectable()
export class OpenApiDocuments {
  private readonly docs = new Map<string, OpenAPIObject>();

  set(full: OpenAPIObject): void {
    this.docs.set('full', full);
    for (const p of PROFILES) this.docs.set(p, profileOf(full, p));
  }

  get(profile: 'full' | Profile): OpenAPIObject {
    const doc = this.docs.get(profile);
    if (!doc) throw new AppError(404, 'NOT_FOUND', `No spec profile "${profile}"; use one of: ${PROFILES.join(', ')}.`);
    return doc;
  }
}

@ApiExcludeController()
@Public()
@Controller()
export class OpenApiController {
  constructor(private readonly docs: OpenApiDocuments) {}

  @Get('openapi.json')
  full() {
    return this.docs.get('full');
  }

  @Get('openapi/:profile.json')
  profile(@Param('profile') profile: string) {
    return this.docs.get(profile as Profile);
  }
}
