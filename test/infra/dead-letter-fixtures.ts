/** The ARN of stage `test`'s dead-letter queue of `purpose`, as the templates build it from its name. */
export function deadLetterQueueArn(purpose: string, stage = 'test'): unknown {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':sqs:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:rotor-${stage}-${purpose}-dead-letters`,
      ],
    ],
  };
}

/**
 * The two statements that let a role send to the dead-letter queue of `purpose`: SendMessage on
 * that queue, and the stage's key (logical id `keyId`) only through SQS for that queue's messages.
 */
export function deadLetterSendStatements(purpose: string, keyId: string, stage = 'test'): unknown[] {
  return [
    { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: deadLetterQueueArn(purpose, stage) },
    {
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
      Condition: {
        StringEquals: {
          'kms:EncryptionContext:aws:sqs:arn': deadLetterQueueArn(purpose, stage),
          'kms:ViaService': { 'Fn::Join': ['', ['sqs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
        },
      },
    },
  ];
}
