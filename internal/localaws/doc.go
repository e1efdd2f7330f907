// Package localaws is the part of the local AWS stack (internal/stack) that
// rin's own module needs for its tests without the stack's emulators as
// requirements: the SQS message bodies S3 sends for object events (S3 event
// notifications, the s3:TestEvent, the SNS envelope, the EventBridge shape)
// and goaws, the SQS emulator, run as a child process built from the stack
// module (see proc.ToolBinary). Neither needs any module beyond the AWS SDK
// and uuid; the stack imports this package rather than keeping a copy.
package localaws
