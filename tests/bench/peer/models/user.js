import {
  PutCommand,
  GetCommand,
  UpdateCommand,
  DeleteCommand,
  ScanCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import db from "../config/dynamodb.js";
import { randomUUID } from "crypto";

const TABLE = process.env.TABLE_NAME || "Users";

export async function createUserIfNotExists(data) {
  const user = { id: randomUUID(), createdAt: new Date().toISOString(), ...data };
  try {
    await db.send(
      new PutCommand({
        TableName: TABLE,
        Item: user,
        ConditionExpression: "attribute_not_exists(id)",
      })
    );
    return user;
  } catch (err) {
    if (err.name === "ConditionalCheckFailedException") {
      throw new Error("User already exists");
    }
    throw err;
  }
}

export async function getUserById(id) {
  const result = await db.send(new GetCommand({ TableName: TABLE, Key: { id } }));
  return result.Item || null;
}

export async function getUserByEmail(email) {
  const result = await db.send(
    new QueryCommand({
      TableName: TABLE,
      IndexName: "email-index",
      KeyConditionExpression: "email = :email",
      ExpressionAttributeValues: { ":email": email },
    })
  );
  return result.Items?.[0] || null;
}

export async function updateUser(id, updates) {
  const keys = Object.keys(updates);
  // Build UpdateExpression dynamically from the updates object
  const UpdateExpression = "SET " + keys.map((k) => `#${k} = :${k}`).join(", ");
  const ExpressionAttributeNames = Object.fromEntries(keys.map((k) => [`#${k}`, k]));
  const ExpressionAttributeValues = Object.fromEntries(keys.map((k) => [`:${k}`, updates[k]]));
  const result = await db.send(
    new UpdateCommand({
      TableName: TABLE,
      Key: { id },
      UpdateExpression,
      ExpressionAttributeNames,
      ExpressionAttributeValues,
      ReturnValues: "ALL_NEW",
    })
  );
  return result.Attributes;
}

export async function deleteUser(id) {
  await db.send(new DeleteCommand({ TableName: TABLE, Key: { id } }));
}

export async function listUsers() {
  const result = await db.send(new ScanCommand({ TableName: TABLE }));
  return result.Items || [];
}
