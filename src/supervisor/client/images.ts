// Client of dray.services.images.v1.Images.
import type { Labels, Timestamp } from '../api/types.ts';
import type { Caller } from './caller.ts';
import { iterate } from './connection.ts';

export interface DescriptorMessage { mediaType: string; digest: string; size: number; annotations?: Labels }
export interface Image { name: string; labels: Labels; target: DescriptorMessage | null; createdAt?: Timestamp | null; updatedAt?: Timestamp | null }
export interface PullProgress { kind: string; descriptor: DescriptorMessage | null; status: string; offset: number; total: number; image: Image | null }
export interface PullOptions { platform?: { os: string; architecture: string; variant?: string }; snapshotter?: string; username?: string; password?: string; insecureRegistries?: string[] }

export class ImagesApi {
  private readonly c: Caller;
  constructor(c: Caller) { this.c = c; }

  async get(name: string): Promise<Image> {
    return (await this.c.unary<{ image: Image }>('images', 'Get', { name })).image;
  }

  async list(...filters: string[]): Promise<Image[]> {
    return (await this.c.unary<{ images: Image[] }>('images', 'List', { filters })).images;
  }

  async create(image: { name: string; target: DescriptorMessage; labels?: Labels }): Promise<Image> {
    return (await this.c.unary<{ image: Image }>('images', 'Create', { image: { labels: {}, ...image } })).image;
  }

  /** Updates the fields in paths ("labels", "labels.<key>", "target"); none: labels and target. */
  async update(image: { name: string; target?: DescriptorMessage; labels?: Labels }, paths?: string[]): Promise<Image> {
    return (await this.c.unary<{ image: Image }>('images', 'Update', { image: { labels: {}, ...image }, updateMask: paths ? { paths } : null })).image;
  }

  /** sync: also collect the content no image references any more before returning. */
  async delete(name: string, sync = false): Promise<void> {
    await this.c.unary('images', 'Delete', { name, sync });
  }

  /** Server-side pull; yields progress, the last message carries the image. */
  pull(reference: string, opts: PullOptions = {}): AsyncGenerator<PullProgress> {
    return iterate<PullProgress>(this.c.stream('images', 'Pull', { reference, ...opts }), () => false);
  }
}
