// Progress events in the shape Docker's /images/create stream uses
// ({"status":"Downloading","progressDetail":{"current":..,"total":..},"id":"<12 hex>"}).

export type ProgressStatus =
  | 'Pulling fs layer'
  | 'Waiting'
  | 'Downloading'
  | 'Verifying Checksum'
  | 'Download complete'
  | 'Already exists'
  | 'Retrying'
  | 'Extracting'
  | 'Pull complete'
  | 'Skipped foreign layer'
  | 'Preparing'
  | 'Pushing'
  | 'Pushed'
  | 'Layer already exists'
  | 'Mounted from';

export interface ProgressEvent {
  /** Short id (12 hex of the digest), as Docker prints. */
  id: string;
  status: ProgressStatus;
  progressDetail?: { current: number; total: number };
  /** Extra words Docker appends ("Mounted from library/x", "Retrying in 2 seconds"). */
  detail?: string;
}

export type ProgressSink = (e: ProgressEvent) => void;
