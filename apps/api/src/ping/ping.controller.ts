import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@app/session';

@ApiTags('operations')
@Controller('ping')
export class PingController {
  @Public({ attachSession: false })
  @Get()
  @ApiOperation({ summary: 'Liveness: answers without any I/O' })
  @ApiOkResponse({
    schema: { type: 'object', properties: { pong: { type: 'boolean', example: true } } },
  })
  ping(): { pong: true } {
    return { pong: true };
  }
}
