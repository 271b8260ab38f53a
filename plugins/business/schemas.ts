import { Type, type Static } from 'typebox'

export const BusinessDataSchema = Type.Object({
  data: Type.Object({
    message: Type.String(),
    user: Type.String({ description: 'the user the token belongs to' }),
    tokenExpiresIn: Type.Integer({ description: 'seconds the token now has left, after this use reinflated it' })
  })
}, { description: 'The business data of the token\'s user' })

export type BusinessData = Static<typeof BusinessDataSchema>
