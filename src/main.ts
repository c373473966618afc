import 'reflect-metadata';
import { Module, Controller, Get, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SwaggerModule, DocumentBuilder } from '@nestjs/swagger';
import { ADto } from './x/a.dto.js';
@Controller()
class C { @Get('/a') a(@Query() q: ADto): ADto { return q; } }
@Module({ controllers: [C] })
class M {}
const app = await NestFactory.create(M, { logger: false });
const doc = SwaggerModule.createDocument(app, new DocumentBuilder().build());
console.log(JSON.stringify(doc.paths, null, 1));
